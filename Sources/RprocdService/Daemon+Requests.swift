import Foundation
import Glibc
import Remoteproc
import RprocdProtocol

extension Daemon {
  /// Answers one request of `client`. Nothing a client sends can stop the daemon: every
  /// failure is a refusal on this connection.
  func handle(_ request: Request, from client: ClientConnection) async {
    do throws(Refusal) {
      guard let operation = request.operation else {
        throw Refusal(
          EOPNOTSUPP, "EOPNOTSUPP",
          "unknown op \"\(request.op.prefix(40))\"; this rprocd knows \(Request.Operation.allCases.map(\.rawValue).joined(separator: ", "))")
      }
      if Self.adminOnly.contains(operation), client.access != .admin {
        throw Refusal(
          EACCES, "EACCES",
          "\(operation.rawValue) needs root or rprocd's own user (you are uid \(client.credentials.uid))")
      }
      try await perform(operation, request, client)
    } catch {
      client.refuse(request.id, error.info)
    }
  }

  /// What only root (or the daemon's user) may do: change processors, read their memory and
  /// traces, and watch every message.
  static let adminOnly: Set<Request.Operation> = [
    .write, .start, .stop, .detach, .firmware, .crash, .trace, .coredumps, .coredump, .monitor, .unmonitor,
  ]

  private func perform(_ operation: Request.Operation, _ request: Request, _ client: ClientConnection) async throws(Refusal) {
    let id = request.id
    switch operation {
    case .hello:
      client.respond(id, HelloResult(protocolVersion: Frame.protocolVersion, daemon: "rprocd", pid: getpid(), access: client.access.rawValue))
    case .list:
      var list: [ProcessorSummary] = []
      for one in hosted { list.append(await summary(one)) }
      client.respond(id, ProcessorList(processors: list))
    case .status:
      let chosen = request.processor == nil ? hosted : [try find(request.processor)]
      var list: [ProcessorStatus] = []
      for one in chosen { list.append(await status(one)) }
      client.respond(id, StatusList(processors: list))
    case .read:
      let one = try find(request.processor)
      let attribute = try Self.attribute(request.attribute)
      client.respond(id, AttributeValue(value: await one.processor.read(attribute)))
    case .write:
      let one = try find(request.processor)
      let attribute = try Self.attribute(request.attribute)
      guard let value = request.value else { throw .missing("value", "write") }
      try await write(one, attribute, value)
      client.respond(id, AttributeValue(value: await one.processor.read(attribute)))
    case .start, .stop, .detach:
      let one = try find(request.processor)
      try await write(one, .state, operation.rawValue)
      client.respond(id, await summary(one))
    case .firmware:
      let one = try find(request.processor)
      guard let name = request.name ?? request.value else { throw .missing("name", "firmware") }
      do { try await one.setFirmware(name) } catch { throw Refusal(error) }
      client.respond(id, await summary(one))
    case .crash:
      let one = try find(request.processor)
      do {
        try await one.processor.simulateCrash(try CrashWords.parse(request.value ?? ""))
      } catch {
        throw Refusal(error)
      }
      await refresh(one.deviceName)
      client.respond(id, await summary(one))
    case .trace:
      let one = try find(request.processor)
      let index = request.index ?? 0
      do {
        client.respond(id, TraceText(index: index, text: try await one.processor.traceText(index)))
      } catch {
        throw Refusal(error)
      }
    case .coredumps:
      let one = try find(request.processor)
      client.respond(id, CoredumpList(coredumps: await one.visibleCoredumps().map(Self.info)))
    case .coredump:
      let one = try find(request.processor)
      let dumps = await one.visibleCoredumps()
      guard let dump = request.number.map({ n in dumps.first { $0.number == n } }) ?? dumps.last else {
        throw Refusal(
          ENOENT, "ENOENT",
          dumps.isEmpty
            ? "\(one.deviceName) has no core dump; dumps are taken on a crash when coredump is enabled (rproc status shows it)"
            : "\(one.deviceName) has no core dump \(request.number ?? 0); it has \(dumps.map { String($0.number) }.joined(separator: ", "))")
      }
      client.respond(id, CoredumpData(info: Self.info(dump), data: Data(dump.bytes)))
    case .channels:
      let chosen = request.processor == nil ? hosted : [try find(request.processor)]
      client.respond(id, ChannelList(channels: chosen.flatMap(\.channels.channels)))
    case .send:
      client.respond(id, try await send(request))
    case .endpointOpen:
      client.respond(id, try await openEndpoint(request, for: client))
    case .endpointSend:
      try await sendOnEndpoint(request, for: client)
      client.respond(id, Empty())
    case .endpointClose:
      try closeEndpoint(request, for: client)
      client.respond(id, Empty())
    case .monitor:
      let one = try find(request.processor)
      let open = client.resources.withLock { $0.monitors.count }
      guard open < ClientConnection.maximumMonitors else {
        throw Refusal(EMFILE, "EMFILE", "this connection has \(open) monitors, the most allowed; unmonitor one first")
      }
      let handle = client.newHandle()
      client.resources.withLock { $0.monitors[handle] = one.deviceName }
      one.traffic.add(handle, for: client)
      client.respond(
        id, MonitorStarted(monitor: handle, processor: one.deviceName, description: "rpmsg on \(one.processor.platform.platformName)"))
    case .unmonitor:
      guard let handle = request.monitor else { throw .missing("monitor", "unmonitor") }
      guard let device = client.resources.withLock({ $0.monitors.removeValue(forKey: handle) }),
        let one = hosted.first(where: { $0.deviceName == device })
      else { throw Refusal(ENOENT, "ENOENT", "no monitor \(handle) on this connection") }
      one.traffic.remove(handle, for: client)
      client.respond(id, Empty())
    }
  }

  /// Ends what a departed client opened.
  func cleanUp(_ client: ClientConnection) async {
    let resources = client.resources.withLock { resources in
      defer { resources = .init() }
      return resources
    }
    for endpoint in resources.endpoints.values { endpoint.destroy() }
    for one in hosted { one.traffic.remove(nil, for: client) }
  }

  /// The processor called `name`: its device name (`remoteproc0`), its index (`0`), or its
  /// `name` attribute when only one has it. Without a name, the only processor.
  func find(_ name: String?) throws(Refusal) -> HostedProcessor {
    let known = hosted.map { "\($0.deviceName) (\($0.configuration.name))" }.joined(separator: ", ")
    guard let name else {
      if hosted.count == 1 { return hosted[0] }
      throw .invalid("name a processor: \(known)")
    }
    if let one = hosted.first(where: { $0.deviceName == name || String($0.configuration.index) == name }) { return one }
    let named = hosted.filter { $0.configuration.name == name }
    if named.count == 1 { return named[0] }
    throw Refusal(
      ENODEV, "ENODEV",
      named.isEmpty ? "no processor called \(name.prefix(40)); rprocd has \(known)" : "\(named.count) processors are called \(name); use remoteprocN")
  }

  static func attribute(_ name: String?) throws(Refusal) -> ProcessorAttribute {
    guard let name else { throw .missing("attribute", "read and write") }
    guard let attribute = ProcessorAttribute(rawValue: name) else {
      throw Refusal(
        ENOENT, "ENOENT",
        "no attribute \(name.prefix(40)); the attributes are \(ProcessorAttribute.allCases.map(\.rawValue).joined(separator: ", "))")
    }
    return attribute
  }

  /// Writes an attribute as the tree would, and brings the tree up to date.
  func write(_ one: HostedProcessor, _ attribute: ProcessorAttribute, _ value: String) async throws(Refusal) {
    do {
      try await one.processor.write(attribute, value)
    } catch {
      throw Refusal(error)
    }
    await refresh(one.deviceName)
  }

  func summary(_ one: HostedProcessor) async -> ProcessorSummary {
    let p = one.processor
    return ProcessorSummary(
      device: one.deviceName, name: p.name, state: await p.state.rawValue, firmware: await p.firmwareName,
      platform: p.platform.platformName)
  }

  func status(_ one: HostedProcessor) async -> ProcessorStatus {
    let p = one.processor
    return ProcessorStatus(
      device: one.deviceName, name: p.name, state: await p.state.rawValue, firmware: await p.firmwareName,
      platform: p.platform.platformName, recovery: await p.recoveryDisabled ? "disabled" : "enabled",
      coredump: await p.coredumpMode.rawValue, firmwareDirectory: one.configuration.firmwareDirectory,
      onExit: one.configuration.onExit.rawValue, crashes: await p.crashCount, traces: await p.traceNames,
      serialPorts: one.terminals.serialPorts, channels: one.channels.channels,
      coredumps: await one.visibleCoredumps().map(Self.info), monitors: one.traffic.monitorCount)
  }

  static func info(_ dump: Coredump) -> CoredumpInfo {
    CoredumpInfo(number: dump.number, crash: dump.crash.rawValue, details: dump.details, bytes: dump.bytes.count)
  }
}
