import RPMsg
import SharedMemory
import Virtio

extension OpenAMPRemote {
  /// What ``run(_:onHost:log:endpoints:)`` reports about hosts.
  public enum HostEvent: Hashable, Sendable {
    /// A host connected to the kick socket (the n-th since start).
    case connected(Int)
    /// The host published DRIVER_OK and the bus is up.
    case deviceReady
    /// The host closed the socket; the table is back as published.
    case disconnected
  }

  /// Serves hosts, one after another, until ``stop()``: waits for a host to connect, brings
  /// `bus` up once the host has set the device up (and again if it resets it), delivers
  /// messages, and when the host leaves resets the bus and the table for the next one.
  ///
  /// A reset ends every endpoint of the bus (as on the host), so the remote's endpoints are
  /// made by `endpoints`, which runs before each start: create them with `announce: true` and
  /// the host learns about them when the device comes up. `log` gets the bus's complaints.
  public func run(
    _ bus: RPMsgBus, onHost: @escaping @Sendable (HostEvent) -> Void = { _ in },
    log: @escaping @Sendable (String) -> Void = { _ in },
    endpoints: (RPMsgBus) throws(RPMsgError) -> Void
  ) throws(OpenAMPError) {
    let entry = try device()
    defer { listener.close() }
    while let connection = try listener.accept() {
      host.withLock { $0 = connection }
      onHost(.connected(hosts.add(1, ordering: .relaxed).newValue))
      let stopped = serve(bus, connection: connection, entry: entry, onHost: onHost, log: log, endpoints: endpoints)
      host.withLock { $0 = nil }
      connection.shutdown()
      connection.close()
      bus.reset(reason: stopped ? "the remote stopped" : "the host closed the kick socket")
      try restoreTable()
      if stopped { return }
      onHost(.disconnected)
    }
  }

  /// One host's session; true when it ended because of ``stop()``.
  private func serve(
    _ bus: RPMsgBus, connection: OpenAMPEventSocket, entry: VirtioDeviceEntry,
    onHost: (HostEvent) -> Void, log: (String) -> Void, endpoints: (RPMsgBus) throws(RPMsgError) -> Void
  ) -> Bool {
    var session = RPMsgRemoteSession()
    while true {
      if session.follow(bus, entry: entry, addressMap: addressMap, log: log, endpoints: endpoints) {
        onHost(.deviceReady)
      }
      // Until DRIVER_OK, look at the status every millisecond, as OpenAMP's remote does
      // (rproc_virtio_wait_remote_ready); then sleep until a kick, looking now and then for a
      // host that resets the device without one.
      switch connection.wait(timeoutMilliseconds: bus.isRunning ? 100 : 1, wake: listener.wakeDescriptor) {
      case .kicks, .timedOut: continue
      case .closed: return false
      case .woken: return true
      }
    }
  }

  /// Writes the table back as published: status 0, no features, the original notify ids.
  func restoreTable() throws(OpenAMPError) {
    do {
      try tableRegion.write(table.bytes, at: 0)
    } catch {
      throw OpenAMPError(.sharedMemory, "\(configuration.sharedMemoryPath): restoring the table: \(error.message)")
    }
  }
}

extension OpenAMPRemote {
  /// OpenAMP's `rpmsg-echo` in Swift: serves hosts until ``stop()``, announcing an endpoint
  /// for each of `services` (OpenAMP's demo: `rpmsg-openamp-demo-channel`) that sends every
  /// message back to whoever sent it. Returns the bus it made, once stopped.
  @discardableResult
  public func runEcho(
    services: [String] = ["rpmsg-openamp-demo-channel"], onHost: @escaping @Sendable (HostEvent) -> Void = { _ in },
    log: @escaping @Sendable (String) -> Void = { _ in }
  ) throws(OpenAMPError) -> RPMsgBus {
    let bus = rpmsgBus(log: log)
    try run(bus, onHost: onHost, log: log) { bus throws(RPMsgError) in
      for name in services {
        _ = try bus.createEndpoint(name: name, announce: true) { message in
          let endpoint = message.endpoint
          let to = message.source
          let sent = message.withPayload { payload in
            Result { () throws(RPMsgError) in try endpoint.trySend(payload, to: to) }
          }
          if case .failure(let error) = sent { log("echo to \(to.rawValue) lost: \(error)") }
        }
      }
    }
    return bus
  }
}
