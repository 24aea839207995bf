/// Serializes lifecycle operations of one processor across suspension points, as Linux's
/// `rproc->lock` mutex does: boot, shutdown, recovery and attribute writes run one at a
/// time, in arrival order, even though each awaits the platform.
struct LifecycleLock: Sendable {
  private var held = false
  private var waiters: [CheckedContinuation<Void, Never>] = []

  /// True when nobody holds the lock: take it now.
  mutating func tryAcquire() -> Bool {
    if held { return false }
    held = true
    return true
  }

  mutating func enqueue(_ waiter: CheckedContinuation<Void, Never>) {
    waiters.append(waiter)
  }

  /// Hands the lock to the next waiter, or frees it.
  mutating func release() -> CheckedContinuation<Void, Never>? {
    precondition(held, "lifecycle lock released while free")  // a host bug, not remote input
    if waiters.isEmpty {
      held = false
      return nil
    }
    return waiters.removeFirst()
  }
}
