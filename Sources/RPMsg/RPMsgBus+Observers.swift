import SharedMemory
import Synchronization
import Virtio

/// A channel appeared or went away on a bus.
public enum RPMsgChannelEvent: Sendable {
  /// The peer announced a service and the bus made its channel (its default endpoint
  /// exists; a matching driver is probed right after the observers ran).
  case added(RPMsgChannel)
  /// The channel was removed: destroyed by the peer, or every channel at a reset.
  case removed(RPMsgChannel, RPMsgRemovalReason)
}

/// One message a tap saw: sent by this side or received from the peer. The payload is a
/// copy; `flags` is the rpmsg header's `flags` (0 for what this side sends).
public struct RPMsgTapRecord: Sendable {
  public enum Direction: Hashable, Sendable {
    /// This side sent it (for a host bus: host → remote).
    case sent
    /// The peer sent it (for a host bus: remote → host).
    case received
  }

  public var direction: Direction
  public var source: EndpointAddress
  public var destination: EndpointAddress
  public var flags: UInt16
  public var payload: [UInt8]
  /// For a sent message, when the send began (before the peer could see it, so a reply is
  /// always stamped later); for a received one, when it was taken from the ring.
  public var time: ContinuousClock.Instant
}

/// A registration made with ``RPMsgBus/observeChannels(_:)``; pass it to
/// ``RPMsgBus/removeChannelObserver(_:)`` to stop observing.
public struct RPMsgObservation: Hashable, Sendable {
  let id: Int
}

/// Channel observers and the tap, kept apart from the send and receive state: the hot
/// paths only read the bus's `tapping` flag (one relaxed atomic load per message).
final class RPMsgBusObservers: Sendable {
  let tap = Mutex<(@Sendable (RPMsgTapRecord) -> Void)?>(nil)
  let channels = Mutex<[(id: Int, observer: @Sendable (RPMsgChannelEvent) -> Void)]>([])
  let nextID = Atomic<Int>(0)
}

extension RPMsgBus {
  /// Calls `observer` for every channel created or removed from now on, on the thread that
  /// creates or removes it (the receive path for announcements, the resetting thread for a
  /// reset), never with a bus lock held. Keep it short and do not block.
  @discardableResult
  public func observeChannels(
    _ observer: @escaping @Sendable (RPMsgChannelEvent) -> Void
  ) -> RPMsgObservation {
    let id = observers.nextID.add(1, ordering: .relaxed).newValue
    observers.channels.withLock { $0.append((id, observer)) }
    return RPMsgObservation(id: id)
  }

  /// Stops an observer registered with ``observeChannels(_:)``.
  public func removeChannelObserver(_ observation: RPMsgObservation) {
    observers.channels.withLock { $0.removeAll { $0.id == observation.id } }
  }

  /// Sets (or, with nil, removes) the tap: `tap` sees a copy of every message this bus sends
  /// or receives, name-service messages included, on the sending or receiving thread (with
  /// the receive lock held: append it to a queue and return). Without a tap the send and
  /// receive paths pay one relaxed atomic load per message.
  public func setTap(_ tap: (@Sendable (RPMsgTapRecord) -> Void)?) {
    observers.tap.withLock { $0 = tap }
    tapping.store(tap != nil, ordering: .releasing)
  }

  /// Whether a tap is set.
  public var isTapped: Bool { tapping.load(ordering: .relaxed) }

  func notifyChannelObservers(_ event: RPMsgChannelEvent) {
    for entry in observers.channels.withLock({ $0 }) { entry.observer(event) }
  }

  @inline(never)
  func tapSent(
    source: EndpointAddress, destination: EndpointAddress, payload: Span<UInt8>,
    time: ContinuousClock.Instant
  ) {
    guard let tap = observers.tap.withLock({ $0 }) else { return }
    var bytes: [UInt8] = []
    bytes.reserveCapacity(payload.count)
    for i in payload.indices { bytes.append(payload[i]) }
    tap(RPMsgTapRecord(direction: .sent, source: source, destination: destination, flags: 0,
                       payload: bytes, time: time))
  }

  /// A received message in `slot` (header already checked: `count` fits the buffer).
  @inline(never)
  func tapReceived(
    _ map: borrowing DeviceAddressMap, _ order: ByteOrder, _ slot: BufferSlot, source: UInt32, destination: UInt32,
    count: Int
  ) {
    guard let tap = observers.tap.withLock({ $0 }) else { return }
    let region = map.windows[slot.window].region
    let flags = (try? region.load(UInt16.self, at: slot.offset &+ 14, order: order)) ?? 0
    let payload = (try? region.bytes(at: slot.offset &+ RPMsgWire.headerSize, count: count)) ?? []
    tap(RPMsgTapRecord(direction: .received, source: EndpointAddress(source),
                       destination: EndpointAddress(destination), flags: flags, payload: payload,
                       time: .now))
  }
}
