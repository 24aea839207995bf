import Synchronization
import Virtio

/// How a wait for a transmit buffer ended.
public enum RPMsgWaitOutcome: Hashable, Sendable {
  /// A buffer is (probably) free: try sending again.
  case writable
  case timedOut
  case cancelled
  /// The bus was reset.
  case reset
}

extension RPMsgBus {
  /// Writers waiting for a transmit buffer, under `waiters`. Linux: `vrp->sendq` and
  /// `sleepers` (tx-complete interrupts are enabled only while someone waits).
  struct WaiterList: Sendable {
    var next: UInt64 = 0
    var handlers: [UInt64: @Sendable (RPMsgWaitOutcome) -> Void] = [:]
    /// Outcomes that arrived before their handler was registered (a cancelled task).
    var early: [UInt64: RPMsgWaitOutcome] = [:]
  }

  /// Calls `handler` once, when a transmit buffer may be free (immediately if one is), or
  /// with `.reset`. The writability signal for code that does not use async/await:
  /// after a try-send failed with `noBuffer`, register here instead of spinning.
  public func whenWritable(_ handler: @escaping @Sendable (RPMsgWaitOutcome) -> Void) {
    let id = waiters.withLock { w -> UInt64 in
      w.next += 1
      w.handlers[w.next] = handler
      return w.next
    }
    _ = id
    armWritability()
  }

  /// Waits until a transmit buffer may be free, the deadline passes, the task is
  /// cancelled or the bus is reset.
  func waitUntilWritable(deadline: ContinuousClock.Instant) async throws(RPMsgError) {
    let id = waiters.withLock { w -> UInt64 in
      w.next += 1
      return w.next
    }
    let outcome = await withTaskCancellationHandler {
      await withCheckedContinuation { (continuation: CheckedContinuation<RPMsgWaitOutcome, Never>) in
        let early = waiters.withLock { w -> RPMsgWaitOutcome? in
          if let o = w.early.removeValue(forKey: id) { return o }
          w.handlers[id] = { continuation.resume(returning: $0) }
          return nil
        }
        if let early {
          continuation.resume(returning: early)
          return
        }
        let timer = Task {
          try? await Task.sleep(until: deadline, clock: .continuous)
          if !Task.isCancelled { self.resumeWaiter(id, .timedOut) }
        }
        waiters.withLock { w in
          if let h = w.handlers[id] {
            w.handlers[id] = { outcome in
              timer.cancel()
              h(outcome)
            }
          } else {
            timer.cancel()
          }
        }
        armWritability()
      }
    } onCancel: {
      self.resumeWaiter(id, .cancelled)
    }
    switch outcome {
    case .writable: return
    case .timedOut: throw RPMsgError(.timedOut, "no transmit buffer came free before the deadline")
    case .cancelled: throw RPMsgError(.cancelled, "the waiting task was cancelled")
    case .reset:
      throw RPMsgError(.reset, "the bus was reset while waiting for a buffer: \(lastResetReason.withLock { $0 })")
    }
  }

  func resumeWaiter(_ id: UInt64, _ outcome: RPMsgWaitOutcome) {
    let handler = waiters.withLock { w -> (@Sendable (RPMsgWaitOutcome) -> Void)? in
      if let h = w.handlers.removeValue(forKey: id) { return h }
      if outcome == .cancelled { w.early[id] = outcome }  // cancelled before registering
      return nil
    }
    handler?(outcome)
  }

  func resumeAllWaiters(_ outcome: RPMsgWaitOutcome) {
    let all = waiters.withLock { w -> [@Sendable (RPMsgWaitOutcome) -> Void] in
      let hs = Array(w.handlers.values)
      w.handlers.removeAll()
      return hs
    }
    for h in all { h(outcome) }
  }

  var hasWaiters: Bool { waiters.withLock { !$0.handlers.isEmpty } }

  /// Asks the peer to tell us when buffers come back, then checks whether one already did
  /// (closing the race with a peer that returned one just before). Linux:
  /// `rpmsg_upref_sleepers` → `virtqueue_enable_cb(svq)`.
  func armWritability() {
    let state = tx.withLock { s -> RPMsgWaitOutcome? in
      guard s.running else { return .reset }
      if s.brokenError != nil { return .reset }
      if role == .host {
        if !s.host!.spare.isEmpty || s.host!.fresh < s.host!.count { return .writable }
        return s.host!.queue.enableCallbacks() ? nil : .writable
      } else {
        if !s.remote!.spare.isEmpty { return .writable }
        return s.remote!.queue.enableNotifications() ? nil : .writable
      }
    }
    if let state { resumeAllWaiters(state) }
  }

  /// Transmit buffers came back: wake the writers, send queued announcements, and stop
  /// asking for tx-complete interrupts if nobody waits. Linux: `rpmsg_xmit_done`.
  func signalWritable() {
    if hasWaiters {
      resumeAllWaiters(.writable)
    } else {
      tx.withLock { s in
        guard s.running else { return }
        if role == .host { s.host!.queue.disableCallbacks() } else {
          s.remote!.queue.disableNotifications()
        }
      }
    }
    let pending = endpoints.withLock { !$0.pendingAnnouncements.isEmpty }
    if pending { flushAnnouncements() }
  }
}
