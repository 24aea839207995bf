/// What the bus did, and what it dropped. Drops are input from the peer that the bus
/// refused; each is also logged. Exposed for tests, monitoring and fault injection.
public struct RPMsgCounters: Hashable, Sendable {
  /// Messages handed to the transmit ring.
  public var sent: UInt64 = 0
  /// Messages delivered to an endpoint.
  public var received: UInt64 = 0
  /// No endpoint at the destination. Linux: "msg received with no recipient".
  public var droppedNoEndpoint: UInt64 = 0
  /// A buffer shorter than a header, or not readable/writable as it must be.
  public var droppedBadBuffer: UInt64 = 0
  /// A header whose `len` exceeds its buffer. Linux: "inbound msg too big".
  public var droppedBadLength: UInt64 = 0
  /// A name-service message of the wrong size, without a NUL, or not UTF-8.
  /// Linux: "malformed ns msg".
  public var droppedMalformedNameService: UInt64 = 0
  /// A name-service announcement that could not be applied (a channel that already
  /// exists, a destroy for an unknown one).
  public var rejectedAnnouncements: UInt64 = 0
  /// An endpoint's async message queue was full.
  public var droppedQueueFull: UInt64 = 0

  public init() {}

  /// Every drop added up.
  public var dropped: UInt64 {
    droppedNoEndpoint + droppedBadBuffer + droppedBadLength + droppedMalformedNameService
      + droppedQueueFull
  }
}
