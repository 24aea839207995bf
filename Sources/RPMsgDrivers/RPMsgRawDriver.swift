import RPMsg
import Synchronization

/// An endpoint a client reads and writes whole messages on, over an `rpmsg-raw` channel.
/// Linux: the character device `rpmsg_chrdev` creates for `rpmsg-raw` (`/dev/rpmsgN`):
/// each `read` returns one message, each `write` sends one.
public final class RPMsgRawEndpoint: Sendable {
  public let channel: RPMsgChannel
  let messagesPair = AsyncThrowingStream<RPMsgMessage, any Error>.makeStream(
    bufferingPolicy: .bufferingOldest(256))

  init(channel: RPMsgChannel) {
    self.channel = channel
  }

  /// Received messages, one per element; throws `.reset` if the remote restarts.
  public var messages: AsyncThrowingStream<RPMsgMessage, any Error> { messagesPair.stream }

  /// The largest message. Linux: `RPMSG_GET_MTU`-style query (`rpmsg_get_mtu`).
  public var mtu: Int { channel.endpoint.mtu }

  /// Sends one message, waiting for a buffer up to `timeout`. Linux: `write(2)` on the
  /// character device (blocking unless `O_NONBLOCK`).
  public func send(_ message: [UInt8], timeout: Duration = .seconds(15)) async throws(RPMsgError) {
    try await channel.send(message, timeout: timeout)
  }

  /// Sends one message or fails at once. Linux: `write(2)` with `O_NONBLOCK`.
  public func trySend(_ message: [UInt8]) throws(RPMsgError) {
    try channel.trySend(message)
  }

  func deliver(_ message: RPMsgMessage) { messagesPair.continuation.yield(message) }

  func close(_ reason: RPMsgRemovalReason) {
    if reason == .reset {
      messagesPair.continuation.finish(throwing: RPMsgError(.reset, "the remote was reset"))
    } else {
      messagesPair.continuation.finish()
    }
  }
}

/// Binds `rpmsg-raw` channels and opens a ``RPMsgRawEndpoint`` on each.
public final class RPMsgRawDriver: RPMsgDriver {
  public let serviceNames: [String]
  let endpoints = Mutex<[ObjectIdentifier: RPMsgRawEndpoint]>([:])
  let opened: @Sendable (RPMsgRawEndpoint) -> Void

  public init(serviceNames: [String] = ["rpmsg-raw"],
              opened: @escaping @Sendable (RPMsgRawEndpoint) -> Void = { _ in }) {
    self.serviceNames = serviceNames
    self.opened = opened
  }

  /// The open endpoints.
  public var openEndpoints: [RPMsgRawEndpoint] { endpoints.withLock { Array($0.values) } }

  public func probe(_ channel: RPMsgChannel) throws(RPMsgError) {
    let e = RPMsgRawEndpoint(channel: channel)
    endpoints.withLock { $0[ObjectIdentifier(channel)] = e }
    opened(e)
  }

  public func receive(_ message: inout RPMsgReceivedMessage, on channel: RPMsgChannel) {
    guard let e = endpoints.withLock({ $0[ObjectIdentifier(channel)] }) else { return }
    e.deliver(RPMsgMessage(source: message.source, destination: message.destination,
                           payload: message.payload))
  }

  public func remove(_ channel: RPMsgChannel, reason: RPMsgRemovalReason) {
    endpoints.withLock { $0.removeValue(forKey: ObjectIdentifier(channel)) }?.close(reason)
  }
}
