import RPMsg
import Synchronization

/// The monitors of one processor's traffic (`rpmsg listen`, `rpmsg capture`): while there is
/// at least one, every bus of the processor has a tap that copies each message into the
/// monitoring clients' outboxes, where their writer threads encode and send it. Without a
/// monitor the buses have no tap, and their send and receive paths pay one atomic load.
final class TrafficTap: Sendable {
  struct Monitor: Sendable {
    var handle: Int
    var outbox: Outbox
  }

  struct State {
    var monitors: [ObjectIdentifier: [Monitor]] = [:]
    var buses: [RPMsgBus] = []
    var isEmpty: Bool { monitors.isEmpty }
  }

  let clock: WallClock
  // Taps are set and removed under this lock, so they always match the monitors. A tap
  // runs on a bus's receive path and takes it too, briefly; `setTap` takes only the bus's
  // own tap lock, so the order is always this lock → a bus's tap lock.
  private let state = Mutex(State())

  init(clock: WallClock) {
    self.clock = clock
  }

  var monitorCount: Int { state.withLock { $0.monitors.values.reduce(0) { $0 + $1.count } } }

  /// A new bus of the processor: tapped at once when someone monitors.
  func follow(_ bus: RPMsgBus) {
    state.withLock { state in
      state.buses.append(bus)
      if !state.isEmpty { bus.setTap(makeTap()) }
    }
  }

  /// Adds a monitor of `client`, whose traffic events carry `handle`.
  func add(_ handle: Int, for client: ClientConnection) {
    state.withLock { state in
      if state.isEmpty {
        let tap = makeTap()
        for bus in state.buses { bus.setTap(tap) }
      }
      state.monitors[ObjectIdentifier(client), default: []].append(Monitor(handle: handle, outbox: client.outbox))
    }
  }

  /// Removes one monitor (`handle`) or, with nil, every monitor of `client`; true when
  /// something was removed.
  @discardableResult
  func remove(_ handle: Int?, for client: ClientConnection) -> Bool {
    state.withLock { state in
      let key = ObjectIdentifier(client)
      let before = state.monitors[key]?.count ?? 0
      if let handle {
        state.monitors[key]?.removeAll { $0.handle == handle }
        if state.monitors[key]?.isEmpty == true { state.monitors[key] = nil }
      } else {
        state.monitors[key] = nil
      }
      if state.isEmpty {
        for bus in state.buses { bus.setTap(nil) }
      }
      return (state.monitors[key]?.count ?? 0) < before
    }
  }

  private func makeTap() -> @Sendable (RPMsgTapRecord) -> Void {
    { [self] record in
      let targets = state.withLock { $0.monitors.values.flatMap { $0 } }
      for monitor in targets {
        monitor.outbox.enqueue(.traffic(monitor: monitor.handle, record: record, wallClock: clock))
      }
    }
  }
}
