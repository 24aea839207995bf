import Synchronization

/// An rpmsg endpoint: an address on the bus, a receive callback (or an async message
/// queue) and the send operations. Linux: `struct rpmsg_endpoint` + the `rpmsg_send*`
/// family.
public final class RPMsgEndpoint: Sendable {
  /// The local address (the `src` of what it sends).
  public let address: EndpointAddress
  /// The service name ("" for an anonymous endpoint).
  public let name: String
  public let bus: RPMsgBus
  /// True when the endpoint is announced through the name service.
  public let isAnnounced: Bool
  let receiver: Receiver
  /// The receive callback, when the endpoint has one (read on the hot path without
  /// switching over ``receiver``).
  let callback: (@Sendable (inout RPMsgReceivedMessage) -> Void)?
  let onReset: (@Sendable (RPMsgError) -> Void)?
  let destinationValue: Atomic<UInt32>
  /// 0 alive, 1 destroyed, 2 reset.
  let stateValue = Atomic<UInt8>(0)
  let stream: AsyncThrowingStream<RPMsgMessage, any Error>

  enum Receiver: Sendable {
    case callback(@Sendable (inout RPMsgReceivedMessage) -> Void)
    case stream(AsyncThrowingStream<RPMsgMessage, any Error>.Continuation)
    case nameService
  }

  init(address: EndpointAddress, name: String, bus: RPMsgBus, announce: Bool,
       destination: EndpointAddress, receiver: Receiver,
       stream: AsyncThrowingStream<RPMsgMessage, any Error>,
       onReset: (@Sendable (RPMsgError) -> Void)?) {
    self.address = address
    self.name = name
    self.bus = bus
    self.isAnnounced = announce
    self.receiver = receiver
    if case .callback(let c) = receiver { callback = c } else { callback = nil }
    self.stream = stream
    self.onReset = onReset
    self.destinationValue = Atomic(destination.rawValue)
  }

  /// Where ``trySend(_:)-(Span<UInt8>)`` and ``send(_:timeout:)`` go: the channel's remote
  /// address, or the one the name service bound. `.any` when unbound.
  public var destination: EndpointAddress {
    EndpointAddress(destinationValue.load(ordering: .acquiring))
  }

  /// Sets the default destination (OpenAMP binds it when the peer announces the name).
  public func bind(to destination: EndpointAddress) {
    destinationValue.store(destination.rawValue, ordering: .releasing)
  }

  /// True until the endpoint is destroyed or the bus is reset.
  public var isAlive: Bool { stateValue.load(ordering: .acquiring) == 0 }

  /// The largest payload. Linux: `rpmsg_get_mtu`.
  public var mtu: Int { RPMsgWire.mtu }

  /// Messages for an endpoint made without a callback, in arrival order. The sequence
  /// ends when the endpoint is destroyed, and throws ``RPMsgError/Code-swift.struct/reset``
  /// when the bus is reset. (Empty for callback endpoints.)
  public var messages: AsyncThrowingStream<RPMsgMessage, any Error> { stream }

  @inline(__always)
  func checkAlive() throws(RPMsgError) {
    let state = stateValue.load(ordering: .acquiring)
    if state != 0 { throw notAlive(state) }
  }

  @inline(never)
  func notAlive(_ state: UInt8) -> RPMsgError {
    state == 1
      ? RPMsgError(.endpointDestroyed, "endpoint \(address) was destroyed")
      : RPMsgError(.reset, "endpoint \(address) was reset with its remote")
  }

  // MARK: Try-send (fails at once when no buffer is free)

  /// Sends to the default destination. Linux: `rpmsg_trysend`.
  public func trySend(_ payload: Span<UInt8>) throws(RPMsgError) {
    try checkAlive()
    try bus.transmit(source: address, destination: destination, payload: payload)
  }

  /// Sends to the default destination. Linux: `rpmsg_trysend`.
  public func trySend(_ payload: [UInt8]) throws(RPMsgError) {
    try checkAlive()
    try bus.transmit(source: address, destination: destination, payload: payload.span)
  }

  /// Sends to `destination`. Linux: `rpmsg_trysendto`.
  public func trySend(_ payload: Span<UInt8>, to destination: EndpointAddress) throws(RPMsgError) {
    try checkAlive()
    try bus.transmit(source: address, destination: destination, payload: payload)
  }

  /// Sends to `destination`. Linux: `rpmsg_trysendto`.
  public func trySend(_ payload: [UInt8], to destination: EndpointAddress) throws(RPMsgError) {
    try trySend(payload.span, to: destination)
  }

  /// Sends with a chosen source address (off-channel). Linux: `rpmsg_trysend_offchannel`.
  public func trySend(
    _ payload: [UInt8], from source: EndpointAddress, to destination: EndpointAddress
  ) throws(RPMsgError) {
    try checkAlive()
    try bus.transmit(source: source, destination: destination, payload: payload.span)
  }

  // MARK: Blocking sends (wait for a buffer; timeout and task cancellation)

  /// Sends to the default destination, waiting up to `timeout` for a buffer.
  /// Linux: `rpmsg_send` (15 s).
  public func send(_ payload: [UInt8], timeout: Duration = .seconds(15)) async throws(RPMsgError) {
    try await send(payload, from: address, to: destination, timeout: timeout)
  }

  /// Sends to `destination`, waiting up to `timeout`. Linux: `rpmsg_sendto`.
  public func send(
    _ payload: [UInt8], to destination: EndpointAddress, timeout: Duration = .seconds(15)
  ) async throws(RPMsgError) {
    try await send(payload, from: address, to: destination, timeout: timeout)
  }

  /// Sends with a chosen source, waiting up to `timeout`. Linux: `rpmsg_send_offchannel`.
  public func send(
    _ payload: [UInt8], from source: EndpointAddress, to destination: EndpointAddress,
    timeout: Duration = .seconds(15)
  ) async throws(RPMsgError) {
    let deadline = ContinuousClock.now.advanced(by: timeout)
    while true {
      try checkAlive()
      do {
        try bus.transmit(source: source, destination: destination, payload: payload.span)
        return
      } catch where error.code == .noBuffer {
        try await bus.waitUntilWritable(deadline: deadline)
      }
    }
  }

  // MARK: Zero-copy

  /// Borrows a transmit buffer to fill in place; send or release it exactly once.
  /// Throws ``RPMsgError/Code-swift.struct/noBuffer`` when none is free.
  /// Linux: `rpmsg_get_tx_buffer`-style APIs in OpenAMP (`rpmsg_get_tx_payload_buffer`).
  public func borrowBuffer() throws(RPMsgError) -> RPMsgTransmitBuffer {
    try checkAlive()
    return try bus.borrowTransmitBuffer(source: address, destination: destination)
  }

  /// Waits until a transmit buffer is likely free (a writer never busy-loops).
  public func waitUntilWritable(timeout: Duration = .seconds(15)) async throws(RPMsgError) {
    try checkAlive()
    try await bus.waitUntilWritable(deadline: ContinuousClock.now.advanced(by: timeout))
  }

  /// Destroys the endpoint: frees its address and, if announced, tells the peer.
  /// No callback runs for it after this returns. Linux: `rpmsg_destroy_ept`.
  public func destroy() {
    bus.destroy(self)
  }
}
