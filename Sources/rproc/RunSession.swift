import Dispatch
import Firmware
import Foundation
import RPMsg
import RPMsgDrivers
import Remoteproc
import RemoteprocEmulated
import RemoteprocHost
import RemoteprocProcess
import RemoteprocVirtio
import SharedMemory
import Synchronization
import VirtioSerial

/// One processor with its diagnostics printed and its console reachable: what `rproc run`
/// drives (a firmware booted on an emulated core) and `rproc openamp attach` (an OpenAMP
/// remote attached to).
final class RunSession: Sendable {
  let registry: RemoteprocRegistry
  let processor: RemoteProcessor
  let drivers: RemoteprocVirtioDrivers
  let tty: RPMsgTTYDriver
  let received: AsyncStream<[UInt8]>
  /// The command, for messages ("rproc run").
  let command: String
  private let watchers: Mutex<[Task<Void, Never>]> = Mutex([])

  init(
    registry: RemoteprocRegistry, processor: RemoteProcessor, drivers: RemoteprocVirtioDrivers,
    tty: RPMsgTTYDriver, received: AsyncStream<[UInt8]>, command: String
  ) {
    self.registry = registry
    self.processor = processor
    self.drivers = drivers
    self.tty = tty
    self.received = received
    self.command = command
  }

  /// `--machine native`: the process platform.
  static let native = "native"
  /// Every `--machine` choice.
  static var machineNames: String { (EmulatedMachine.all.map(\.name) + [native]).joined(separator: ", ") }

  /// Chooses the machine (an emulated core, or a native process for this host's
  /// executables), registers the processor and boots it.
  static func start(
    firmware path: String, machineName: String?, cpus: [Int] = [], legacyVringAddress: Bool
  ) async throws -> RunSession {
    let url = URL(fileURLWithPath: path)
    guard let data = FileManager.default.contents(atPath: url.path) else {
      throw RunFailure(message: "\(path): cannot read the file (missing, a directory, or no permission)")
    }
    let image: ELFImage
    do { image = try ELFImage(bytes: [UInt8](data)) } catch {
      throw RunFailure(message: "\(path): \(error.message)")
    }
    let platform: any RemoteProcessorPlatform
    let coreName: String
    if machineName == RunSession.native || (machineName == nil && ProcessPlatform.runsNatively(image)) {
      // This host's own executable: the process platform (docs/process-platform.md).
      do { platform = try PlatformFactory.process(runningWith: cpus) } catch {
        throw RunFailure(message: error.message)
      }
      coreName = RunSession.native
    } else {
      let machine: EmulatedMachine
      if let machineName {
        machine = EmulatedMachine.named(machineName)!  // validated by the command
      } else {
        guard
          let inferred = EmulatedMachine.forELF(
            machine: image.machine.rawValue, dataEncoding: image.byteOrder == .little ? 1 : 2)
        else {
          throw RunFailure(
            message: "\(path): no emulated machine runs \(image.machine) \(image.byteOrder)-endian images, and it is no executable of this host (ELF64 \(ProcessPlatform.hostMachine)); give --machine (\(RunSession.machineNames))")
        }
        machine = inferred
      }
      do { platform = try PlatformFactory.emulated(machine, options: .init(cpus: cpus)) } catch {
        throw RunFailure(message: error.message)
      }
      coreName = machine.name
    }
    let (received, sink) = AsyncStream.makeStream(of: [UInt8].self)
    let tty = RPMsgTTYDriver()
    let registry = RemoteprocRegistry()
    let drivers = RemoteprocVirtioDrivers(
      newBus: { _, _, bus in bus.register(tty) },
      serialReceive: { _, _, bytes in sink.yield(bytes) },
      events: registry.events)
    var options = RemoteProcessor.Options()
    options.legacyZeroVringAddress = legacyVringAddress
    let processor = await registry.add(
      name: coreName, firmware: url.lastPathComponent, platform: platform,
      firmwareStore: FirmwareStore(directories: [url.deletingLastPathComponent().path]), drivers: drivers,
      options: options
    ).processor
    let session = RunSession(
      registry: registry, processor: processor, drivers: drivers, tty: tty, received: received, command: "rproc run")
    session.watchEvents()
    Output.error("\(processor.deviceName): \(coreName == RunSession.native ? "native process" : "\(coreName) core"), firmware \(url.lastPathComponent)")
    do {
      try await processor.boot()
    } catch {
      var message = "\(processor.deviceName): boot failed: \(error.message)"
      if error.message.contains("vring") && error.message.contains("da 0x0") && !legacyVringAddress {
        message += " (old firmware asks for vrings at address 0: try --legacy-vring-address)"
      }
      await session.stop()
      throw RunFailure(message: message)
    }
    session.watchTrace()
    return session
  }

  /// Prints state changes, crashes and recoveries to standard error.
  func watchEvents() {
    let stream = registry.events.subscribe()
    let task = Task {
      for await event in stream {
        switch event {
        case .stateChanged(let name, let from, let to): Output.error("\(name): \(from) → \(to)")
        case .crashed(let name, let type, let details): Output.error("\(name): crashed (\(type)): \(details)")
        case .recovered(let name): Output.error("\(name): recovered")
        case .recoveryFailed(let name, let reason): Output.error("\(name): recovery failed: \(reason)")
        case .coredumpTaken(let name, let bytes): Output.error("\(name): core dump taken (\(bytes) bytes)")
        case .channelAdded(let name, let channel, let src, let dst):
          Output.error("\(name): rpmsg channel \(channel) \(hex(src, width: 0)) → \(hex(dst, width: 0))")
        case .channelRemoved(let name, let channel, _, _): Output.error("\(name): rpmsg channel \(channel) removed")
        }
      }
    }
    watchers.withLock { $0.append(task) }
  }

  /// Prints what the firmware adds to its trace buffers to standard error, line by line.
  func watchTrace() {
    let processor = self.processor
    let task = Task {
      var shown: [Int: Int] = [:]
      while !Task.isCancelled {
        let count = await processor.traceNames.count
        for index in 0..<count {
          guard let text = try? await processor.traceText(index) else { continue }
          let already = shown[index, default: 0]
          if text.utf8.count > already {
            let fresh = String(decoding: Array(text.utf8).dropFirst(already), as: UTF8.self)
            for line in fresh.split(separator: "\n", omittingEmptySubsequences: false) where !line.isEmpty {
              Output.error("trace\(index): \(line)")
            }
            shown[index] = text.utf8.count
          } else if text.utf8.count < already {
            shown[index] = text.utf8.count  // the firmware restarted and cleared it
          }
        }
        try? await Task.sleep(for: .milliseconds(50))
      }
    }
    watchers.withLock { $0.append(task) }
  }

  /// Shuts the processor down (whatever its state; with `detach`, an attached remote is left
  /// running) and stops the watchers.
  func stop(detach: Bool = false) async {
    await registry.remove(processor, detach: detach)
    try? await Task.sleep(for: .milliseconds(60))  // let the trace watcher print the last lines
    for task in watchers.withLock({ $0 }) { task.cancel() }
  }

  /// Runs until SIGINT or SIGTERM, or (with `orCrash`) until the processor crashes. Returns
  /// false for a crash.
  @discardableResult
  func runUntilInterrupted(orCrash: Bool = false) async -> Bool {
    let (stream, continuation) = AsyncStream.makeStream(of: Int32?.self)
    let sources = [SIGINT, SIGTERM].map { number -> DispatchSourceSignal in
      signal(number, SIG_IGN)
      let source = DispatchSource.makeSignalSource(signal: number)
      source.setEventHandler { continuation.yield(number) }
      source.resume()
      return source
    }
    let events = registry.events.subscribe()
    let crashes = Task {
      for await event in events where orCrash {
        if case .crashed = event { continuation.yield(nil) }
      }
    }
    defer {
      crashes.cancel()
      sources.forEach { $0.cancel() }
    }
    for await number in stream {
      guard let number else { return false }
      Output.error("\(processor.deviceName): signal \(number), shutting down")
      break
    }
    return true
  }
}
