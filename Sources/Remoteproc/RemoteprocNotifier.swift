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
    var unknown = 0
  }

  private let routes = Mutex(Routes())
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

  func route(_ notifyID: UInt32, to handler: @escaping InterruptHandler) {
    routes.withLock { $0.handlers[notifyID] = handler }
  }

  func unroute(_ notifyID: UInt32) {
    _ = routes.withLock { $0.handlers.removeValue(forKey: notifyID) }
  }

  var routedNotifyIDs: [UInt32] { routes.withLock { $0.handlers.keys.sorted() } }
}
