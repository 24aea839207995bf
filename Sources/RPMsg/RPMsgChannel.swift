import Synchronization

/// A channel: a named service of the peer at a remote address, with a default local
/// endpoint, created when the peer announces the name. Linux: `struct rpmsg_device`
/// (`id.name`, `src`, `dst`, `ept`).
public final class RPMsgChannel: Sendable {
  /// Wire: the announced `rpmsg_ns_msg.name`.
  public let name: String
  /// The peer's address (the announced `addr`). Linux: `rpdev->dst`.
  public let destination: EndpointAddress
  public let bus: RPMsgBus
  let endpointReference = AtomicLazyReference<RPMsgEndpoint>()
  let driverReference = Mutex<(any RPMsgDriver)?>(nil)

  init(name: String, destination: EndpointAddress, bus: RPMsgBus) {
    self.name = name
    self.destination = destination
    self.bus = bus
  }

  /// The default endpoint (its address is the channel's `src`). Linux: `rpdev->ept`.
  public var endpoint: RPMsgEndpoint { endpointReference.load()! }

  /// The bound driver, if any.
  public var driver: (any RPMsgDriver)? { driverReference.withLock { $0 } }

  /// Sends on the default endpoint to the channel's destination, failing at once when no
  /// buffer is free. Linux: `rpmsg_trysend(rpdev->ept, …)`.
  public func trySend(_ payload: [UInt8]) throws(RPMsgError) {
    try endpoint.trySend(payload.span, to: destination)
  }

  /// Sends on the default endpoint, waiting up to `timeout` for a buffer.
  /// Linux: `rpmsg_send(rpdev->ept, …)`.
  public func send(_ payload: [UInt8], timeout: Duration = .seconds(15)) async throws(RPMsgError) {
    try await endpoint.send(payload, to: destination, timeout: timeout)
  }
}

/// Lets a channel's endpoint callback reach the channel without keeping it alive.
final class WeakChannel: Sendable {
  weak let channel: RPMsgChannel?
  init(_ channel: RPMsgChannel) { self.channel = channel }
}
