import Synchronization

extension RPMsgBus {
  /// Endpoints by address, channels and drivers, under `endpoints`.
  struct EndpointTable: Sendable {
    var byAddress: [UInt32: RPMsgEndpoint] = [:]
    /// Lowest dynamic address that may be free. Linux: `idr_alloc(…, 1024, 0)` takes the
    /// lowest free id, so destroyed addresses are reused.
    var nextDynamic: UInt32 = EndpointAddress.firstDynamic.rawValue
    var channels: [RPMsgChannel] = []
    var drivers: [any RPMsgDriver] = []
    var unboundService: (@Sendable (RPMsgAnnouncement) -> Void)?
    /// Announced endpoints whose name-service message is not sent yet.
    var pendingAnnouncements: [(endpoint: RPMsgEndpoint, destroy: Bool)] = []

    mutating func allocate(_ requested: EndpointAddress) throws(RPMsgError) -> EndpointAddress {
      if requested != .any {
        guard requested != .nameService else {
          throw RPMsgError(.addressInUse, "address 53 is reserved for the name service")
        }
        guard byAddress[requested.rawValue] == nil else {
          throw RPMsgError(.addressInUse, "address \(requested) already in use")
        }
        return requested
      }
      var a = nextDynamic
      while byAddress[a] != nil {
        guard a < EndpointAddress.any.rawValue - 1 else {
          throw RPMsgError(.addressInUse, "no dynamic address left")
        }
        a += 1
      }
      nextDynamic = a + 1
      return EndpointAddress(a)
    }

    mutating func free(_ address: EndpointAddress) {
      byAddress[address.rawValue] = nil
      if address >= .firstDynamic, address.rawValue < nextDynamic { nextDynamic = address.rawValue }
    }
  }

  func makeEndpoint(
    name: String, address: EndpointAddress, destination: EndpointAddress, announce: Bool,
    receiver: RPMsgEndpoint.Receiver?, bufferLimit: Int,
    onReset: (@Sendable (RPMsgError) -> Void)?
  ) throws(RPMsgError) -> RPMsgEndpoint {
    guard name.utf8.count < RPMsgWire.nameSize, !name.utf8.contains(0) else {
      throw RPMsgError(.invalidArgument,
                       "endpoint name of \(name.utf8.count) bytes: at most 31, without NUL")
    }
    guard !announce || !name.isEmpty else {
      throw RPMsgError(.invalidArgument, "an announced endpoint needs a name")
    }
    let (stream, continuation) = AsyncThrowingStream<RPMsgMessage, any Error>.makeStream(
      bufferingPolicy: .bufferingOldest(max(1, bufferLimit)))
    if receiver != nil { continuation.finish() }
    let endpoint = try endpoints.withLock { (table) throws(RPMsgError) -> RPMsgEndpoint in
      let a = try table.allocate(address)
      let e = RPMsgEndpoint(address: a, name: name, bus: self, announce: announce,
                            destination: destination,
                            receiver: receiver ?? .stream(continuation), stream: stream,
                            onReset: onReset)
      table.byAddress[a.rawValue] = e
      if announce { table.pendingAnnouncements.append((e, false)) }
      return e
    }
    generation.add(1, ordering: .releasing)
    if announce { flushAnnouncements() }
    return endpoint
  }

  /// Creates an endpoint whose messages reach `receive`, synchronously, on the receive
  /// path (keep it short; it may send, and may ``RPMsgReceivedMessage/hold()`` the buffer).
  /// Linux: `rpmsg_create_ept`; OpenAMP: `rpmsg_create_ept`.
  ///
  /// - Parameters:
  ///   - name: the service name (≤ 31 bytes), required when `announce` is true.
  ///   - address: a fixed address, or `.any` for the lowest free one from 1024.
  ///   - destination: the default destination, or `.any` until bound.
  ///   - announce: tell the peer through the name service (create now, destroy later).
  ///   - onReset: called once if the bus is reset while the endpoint lives.
  public func createEndpoint(
    name: String = "", address: EndpointAddress = .any, destination: EndpointAddress = .any,
    announce: Bool = false, onReset: (@Sendable (RPMsgError) -> Void)? = nil,
    receive: @escaping @Sendable (inout RPMsgReceivedMessage) -> Void
  ) throws(RPMsgError) -> RPMsgEndpoint {
    try makeEndpoint(name: name, address: address, destination: destination,
                     announce: announce, receiver: .callback(receive), bufferLimit: 1,
                     onReset: onReset)
  }

  /// Creates an endpoint whose messages are read from ``RPMsgEndpoint/messages``. At most
  /// `bufferLimit` messages wait there; more are dropped and counted.
  public func createEndpoint(
    name: String = "", address: EndpointAddress = .any, destination: EndpointAddress = .any,
    announce: Bool = false, bufferLimit: Int = 256,
    onReset: (@Sendable (RPMsgError) -> Void)? = nil
  ) throws(RPMsgError) -> RPMsgEndpoint {
    try makeEndpoint(name: name, address: address, destination: destination,
                     announce: announce, receiver: nil, bufferLimit: bufferLimit,
                     onReset: onReset)
  }

  /// The endpoint at `address`, if any.
  public func endpoint(at address: EndpointAddress) -> RPMsgEndpoint? {
    endpoints.withLock { $0.byAddress[address.rawValue] }
  }

  /// How many endpoints exist (the name service's included).
  public var endpointCount: Int { endpoints.withLock { $0.byAddress.count } }

  func destroy(_ endpoint: RPMsgEndpoint) {
    guard endpoint.stateValue.compareExchange(
      expected: 0, desired: 1, ordering: .acquiringAndReleasing).exchanged
    else { return }
    endpoints.withLock { table in
      if table.byAddress[endpoint.address.rawValue] === endpoint { table.free(endpoint.address) }
      if endpoint.isAnnounced { table.pendingAnnouncements.append((endpoint, true)) }
    }
    generation.add(1, ordering: .releasing)
    if case .stream(let c) = endpoint.receiver { c.finish() }
    // Wait for a callback that may be running on another thread; inside a callback (this
    // thread dispatches) nothing else runs.
    if !onDispatcher { rx.withLock { _ in } }
    if endpoint.isAnnounced { flushAnnouncements() }
  }

  /// Sends queued name-service messages while buffers allow (when the name service is up).
  func flushAnnouncements() {
    guard tx.withLock({ $0.running && $0.nameService }) else { return }
    while true {
      let next = endpoints.withLock { table -> (RPMsgEndpoint, Bool)? in
        table.pendingAnnouncements.first.map { ($0.endpoint, $0.destroy) }
      }
      guard let (endpoint, destroy) = next else { return }
      let order = tx.withLock { $0.order }
      let message = RPMsgWire.nameServiceMessage(
        name: endpoint.name, address: endpoint.address, destroy: destroy, order: order)
      do {
        try transmit(source: endpoint.address, destination: .nameService, payload: message.span)
      } catch {
        if error.code != .noBuffer { log("name service: \(error)") }
        if error.code == .noBuffer { return }  // retried when buffers come back
      }
      endpoints.withLock { table in
        if let i = table.pendingAnnouncements.firstIndex(where: {
          $0.endpoint === endpoint && $0.destroy == destroy
        }) {
          table.pendingAnnouncements.remove(at: i)
        }
      }
    }
  }
}
