import SharedMemory
import Virtio

/// A message as the receive callback sees it: the header fields and a view of the payload
/// in the shared buffer, valid during the callback. Call ``hold()`` to keep the buffer past
/// the callback (it is not given back to the peer until the returned value is released).
///
/// Noncopyable, so a message cannot be duplicated and held twice.
public struct RPMsgReceivedMessage: ~Copyable {
  /// Wire: `rpmsg_hdr.src`.
  public let source: EndpointAddress
  /// Wire: `rpmsg_hdr.dst`.
  public let destination: EndpointAddress
  /// Payload bytes. Wire: `rpmsg_hdr.len` (checked against the buffer).
  public let count: Int
  /// The boot this buffer belongs to (one reference for the bus, the map and the epoch),
  /// lent by the receive path for the callback and taken back after it.
  @usableFromInline var session: SessionReference
  /// The endpoint the message was delivered to, lent by the receive path like `session`.
  var receiver: EndpointReference
  @usableFromInline let slot: BufferSlot
  @inlinable var payloadOffset: Int { slot.offset &+ RPMsgWire.headerSize }
  /// True once ``hold()`` took the buffer.
  public private(set) var isHeld = false

  init(source: EndpointAddress, destination: EndpointAddress, count: Int,
       session: consuming SessionReference, receiver: consuming EndpointReference,
       slot: BufferSlot) {
    self.source = source
    self.destination = destination
    self.count = count
    self.session = session
    self.receiver = receiver
    self.slot = slot
  }

  /// The endpoint this message was delivered to (the callback's own endpoint).
  public var endpoint: RPMsgEndpoint { receiver.value }

  /// Sends `payload` back to ``source`` from the endpoint that received this message: a
  /// try-send (fails at once with ``RPMsgError/Code-swift.struct/noBuffer`` when no buffer is
  /// free), the usual answer from inside a receive callback. Linux: `rpmsg_sendto(ept,
  /// data, len, src)` with the callback's `ept`; OpenAMP: `rpmsg_sendto(ept, …, src)`.
  public func reply(_ payload: Span<UInt8>) throws(RPMsgError) {
    try receiver.value.trySend(payload, to: source)
  }

  /// Sends `payload` back to ``source``; see ``reply(_:)-(Span<UInt8>)``.
  public func reply(_ payload: [UInt8]) throws(RPMsgError) {
    try reply(payload.span)
  }

  /// Calls `body` with the payload, in place (no copy). The peer cannot change a buffer it
  /// gave us, but a hostile one might: read each byte once if that matters.
  @inlinable
  public func withPayload<R>(_ body: (Span<UInt8>) -> R) -> R {
    do {
      if slot.window == 0 {
        return try session.value.primary!.withBytes(at: payloadOffset, count: count, body)
      }
      return try session.value.map.windows[slot.window].region.withBytes(
        at: payloadOffset, count: count, body)
    } catch {
      let empty: [UInt8] = []  // unreachable: the bus checked the range
      return body(empty.span)
    }
  }

  /// A copy of the payload.
  public var payload: [UInt8] {
    (try? session.value.map.windows[slot.window].region.bytes(at: payloadOffset, count: count)) ?? []
  }

  /// Ends the message's life on the receive path: gives the session back to `delivery`
  /// (a move, no reference counting) and says whether the callback held the buffer.
  consuming func finish(into delivery: inout RPMsgBus.Delivery) -> Bool {
    let held = isHeld
    delivery.session = consume session
    delivery.cachedEndpoint = consume receiver
    return held
  }

  /// Keeps the buffer after the callback returns. Returns nil if already held.
  /// OpenAMP: `rpmsg_hold_rx_buffer`.
  public mutating func hold() -> RPMsgHeldMessage? {
    guard !isHeld else { return nil }
    isHeld = true
    return RPMsgHeldMessage(source: source, destination: destination, count: count,
                            region: session.value.map.windows[slot.window].region,
                            payloadOffset: payloadOffset, bus: session.value.bus, slot: slot,
                            epoch: session.value.epoch)
  }
}

/// A received buffer kept past its callback. Give it back exactly once: ``release()``,
/// or let it go out of scope (which releases it). OpenAMP: `rpmsg_release_rx_buffer`.
public struct RPMsgHeldMessage: ~Copyable, Sendable {
  public let source: EndpointAddress
  public let destination: EndpointAddress
  public let count: Int
  let region: MemoryRegion
  let payloadOffset: Int
  let bus: RPMsgBus
  let slot: BufferSlot
  let epoch: UInt64
  /// Set by ``release()`` so that `deinit` does not release a second time.
  var released = false

  init(source: EndpointAddress, destination: EndpointAddress, count: Int, region: MemoryRegion,
       payloadOffset: Int, bus: RPMsgBus, slot: BufferSlot, epoch: UInt64) {
    self.source = source
    self.destination = destination
    self.count = count
    self.region = region
    self.payloadOffset = payloadOffset
    self.bus = bus
    self.slot = slot
    self.epoch = epoch
  }

  /// Calls `body` with the payload, in place.
  public func withPayload<R>(_ body: (Span<UInt8>) -> R) -> R {
    do {
      return try region.withBytes(at: payloadOffset, count: count, body)
    } catch {
      let empty: [UInt8] = []
      return body(empty.span)
    }
  }

  public var payload: [UInt8] { (try? region.bytes(at: payloadOffset, count: count)) ?? [] }

  /// Gives the buffer back to the peer (after a reset, there is nothing to give back).
  public consuming func release() {
    released = true
    bus.releaseReceived(slot, epoch: epoch)
  }

  deinit {
    if !released { bus.releaseReceived(slot, epoch: epoch) }
  }
}

/// What the receive path shares with the messages of one boot: the bus (unowned: the bus
/// owns the session through its receive state), the address map and the epoch.
@usableFromInline
final class RPMsgSession: Sendable {
  unowned let bus: RPMsgBus
  @usableFromInline let map: DeviceAddressMap
  /// Window 0's region (the host's whole pool; the remote's first window), also as a
  /// stored property of its own: reached through a `let` of this class rather than
  /// through the map's array, a payload view needs no retain of the mapping.
  @usableFromInline let primary: MemoryRegion?
  let epoch: UInt64

  init(bus: RPMsgBus, map: DeviceAddressMap, epoch: UInt64) {
    self.bus = bus
    self.map = map
    self.primary = map.windows.first?.region
    self.epoch = epoch
  }
}

/// The one reference to a boot's session that the receive path holds. It cannot be copied,
/// only moved: the receive path moves it into each message and back out after the
/// callback, so delivering a message does no reference counting (an atomic operation).
@usableFromInline
struct SessionReference: ~Copyable, Sendable {
  @usableFromInline let value: RPMsgSession
}

/// The receive path's reference to the last endpoint it delivered to; moved into each
/// message and back, like ``SessionReference``.
struct EndpointReference: ~Copyable, Sendable {
  let value: RPMsgEndpoint
}

/// A receive callback the receive path keeps for the last endpoint it delivered to. Not
/// copyable, so calling it borrows it in place (no reference counting per call).
struct ReceiveCallback: ~Copyable, Sendable {
  let call: @Sendable (inout RPMsgReceivedMessage) -> Void
}

/// A received message copied out of shared memory, for the async API.
public struct RPMsgMessage: Hashable, Sendable {
  public var source: EndpointAddress
  public var destination: EndpointAddress
  public var payload: [UInt8]

  public init(source: EndpointAddress, destination: EndpointAddress, payload: [UInt8]) {
    self.source = source
    self.destination = destination
    self.payload = payload
  }
}
