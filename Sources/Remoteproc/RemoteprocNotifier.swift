import Synchronization

/// What a platform calls when the remote signals the host: a vring interrupt (a kick from
/// the remote) or a crash. Linux: `rproc_vq_interrupt` and `rproc_report_crash`.
///
/// Both may be called on any thread, at any time, as often as the remote likes: interrupts
/// are routed synchronously to the virtio device that owns the vring; crashes are handed
/// to the processor, which handles the first one.
public final class RemoteprocNotifier: Sendable {
  public typealias InterruptHandler = @Sendable () -> Void

  private struct Routes {
    var handlers: [UInt32: InterruptHandler] = [:]
    var polls: [UInt32: VringPoll] = [:]
    var unknown = 0
  }

  private let routes = Mutex(Routes())
  /// Bumped by every change of the routes, so a poller can keep its list of
  /// ``polledVrings()`` and look at one word per round to know it is current.
  private let routeChanges = Atomic<UInt64>(0)
  private let crashHandler: @Sendable (CrashType, String) -> Void

  init(crashHandler: @escaping @Sendable (CrashType, String) -> Void) {
    self.crashHandler = crashHandler
  }

  /// The remote kicked vring `notifyID`. Unknown ids are counted and dropped, as Linux does
  /// (`IRQ_NONE`). Linux: `rproc_vq_interrupt`.
  public func vringInterrupt(notifyID: UInt32) {
    let handler = routes.withLock { routes -> InterruptHandler? in
      if let handler = routes.handlers[notifyID] { return handler }
      routes.unknown += 1
      return nil
    }
    handler?()
  }

  /// The remote signalled without saying which vring (a single doorbell, as the MIPS IPI):
  /// every vring is checked. Linux: `idr_for_each(&rproc->notifyids, …)`.
  public func interruptAll() {
    let handlers = routes.withLock { Array($0.handlers.values) }
    for handler in handlers { handler() }
  }

  /// The remote crashed. Linux: `rproc_report_crash`.
  public func reportCrash(_ type: CrashType, details: String) {
    crashHandler(type, details)
  }

  /// Interrupts for vrings nobody registered.
  public var unknownInterrupts: Int { routes.withLock { $0.unknown } }

  /// Sends interrupts for vring `notifyID` to `handler` (a virtio driver calls this from
  /// its subdevice's `start`, for each of its vrings). Linux: the `notifyids` idr entry.
  /// `poll`: how a platform that polls may watch the vring instead (see ``VringPoll``).
  public func route(_ notifyID: UInt32, to handler: @escaping InterruptHandler, poll: VringPoll? = nil) {
    routes.withLock {
      $0.handlers[notifyID] = handler
      $0.polls[notifyID] = poll
      routeChanges.add(1, ordering: .releasing)
    }
  }

  /// Stops routing interrupts for vring `notifyID` (from the subdevice's `stop`).
  public func unroute(_ notifyID: UInt32) {
    routes.withLock {
      $0.handlers.removeValue(forKey: notifyID)
      $0.polls.removeValue(forKey: notifyID)
      routeChanges.add(1, ordering: .releasing)
    }
  }

  /// The routed vrings that can be polled, and the route generation they belong to.
  public func polledVrings() -> (generation: UInt64, vrings: [PolledVring]) {
    routes.withLock { r in
      let generation = routeChanges.load(ordering: .acquiring)
      let vrings = r.polls.keys.sorted().compactMap { id -> PolledVring? in
        guard let handler = r.handlers[id], let poll = r.polls[id] else { return nil }
        return PolledVring(notifyID: id, handler: handler, poll: poll)
      }
      return (generation, vrings)
    }
  }

  /// Changes whenever a route is added or removed (compare with ``polledVrings()``'s).
  public var routeGeneration: UInt64 { routeChanges.load(ordering: .acquiring) }

  var routedNotifyIDs: [UInt32] { routes.withLock { $0.handlers.keys.sorted() } }
}
