import Dispatch
import Foundation
import RPMsg
import RprocdProtocol
import Synchronization

/// What a connection's writer thread sends, in order. Messages and traffic are encoded on
/// that thread, so the rpmsg receive path that queues them only copies the payload.
enum OutboxItem: Sendable {
  /// A response (or a protocol error), already a frame: never dropped.
  case frame([UInt8])
  /// A message for an open endpoint.
  case message(endpoint: Int, source: UInt32, destination: UInt32, payload: [UInt8])
  /// A message seen by a monitor.
  case traffic(monitor: Int, record: RPMsgTapRecord, wallClock: WallClock)
  /// An endpoint ended without the client closing it.
  case endpointClosed(endpoint: Int, reason: String)

  var byteCount: Int {
    switch self {
    case .frame(let bytes): bytes.count
    case .message(_, _, _, let payload): 160 + payload.count * 4 / 3
    case .traffic(_, let record, _): 200 + record.payload.count * 4 / 3
    case .endpointClosed(_, let reason): 80 + reason.utf8.count
    }
  }
}

/// Converts the monotonic instants of taps to nanoseconds since the Unix epoch.
struct WallClock: Sendable {
  let base = ContinuousClock.now
  let baseNanoseconds = UInt64(Date().timeIntervalSince1970 * 1e9)

  func nanoseconds(_ instant: ContinuousClock.Instant) -> UInt64 {
    let (seconds, attoseconds) = (instant - base).components
    let offset = seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    return offset >= 0 ? baseNanoseconds &+ UInt64(offset) : baseNanoseconds &- UInt64(-offset)
  }
}

/// A connection's queue of things to send, bounded so that a client that stops reading
/// cannot make the daemon grow: messages and traffic beyond ``droppableLimit`` bytes are
/// dropped and counted (the next one delivered says how many), and a connection whose
/// responses alone pass ``hardLimit`` is closed.
final class Outbox: Sendable {
  static let droppableLimit = 4 << 20
  static let hardLimit = 320 << 20

  struct State {
    var items: [OutboxItem] = []
    var bytes = 0
    var closed = false
    /// Dropped messages per endpoint and traffic per monitor, reported with the next one.
    var droppedMessages: [Int: Int] = [:]
    var droppedTraffic: [Int: Int] = [:]
  }

  let state = Mutex(State())
  let ready = DispatchSemaphore(value: 0)

  /// Queues an item; false when it was dropped or the outbox is closed (or, for a
  /// response, when the client has let too much pile up: then the outbox closes).
  @discardableResult
  func enqueue(_ item: OutboxItem) -> Bool {
    let size = item.byteCount
    let queued = state.withLock { state -> Bool in
      guard !state.closed else { return false }
      switch item {
      case .frame, .endpointClosed:
        guard state.bytes + size <= Self.hardLimit else {
          state.closed = true
          return false
        }
      case .message(let endpoint, _, _, _):
        guard state.bytes + size <= Self.droppableLimit else {
          state.droppedMessages[endpoint, default: 0] += 1
          return false
        }
      case .traffic(let monitor, _, _):
        guard state.bytes + size <= Self.droppableLimit else {
          state.droppedTraffic[monitor, default: 0] += 1
          return false
        }
      }
      state.items.append(item)
      state.bytes += size
      return true
    }
    ready.signal()
    return queued
  }

  /// Everything queued, and how many were dropped before each endpoint's and monitor's
  /// next item; nil once closed and empty.
  func take() -> (items: [OutboxItem], droppedMessages: [Int: Int], droppedTraffic: [Int: Int])? {
    while true {
      let taken = state.withLock { state -> ([OutboxItem], [Int: Int], [Int: Int])?? in
        if state.items.isEmpty { return state.closed ? .some(nil) : nil }
        defer {
          state.items.removeAll(keepingCapacity: true)
          state.bytes = 0
          state.droppedMessages = [:]
          state.droppedTraffic = [:]
        }
        return .some((state.items, state.droppedMessages, state.droppedTraffic))
      }
      if let taken { return taken }
      ready.wait()
    }
  }

  /// Stops queuing; the writer sends what is queued, then ends.
  func close() {
    state.withLock { $0.closed = true }
    ready.signal()
  }

  /// Drops what is queued and stops (the peer is gone).
  func abandon() {
    state.withLock { state in
      state.closed = true
      state.items.removeAll()
      state.bytes = 0
    }
    ready.signal()
  }
}
