import CSharedMemoryShims
import Glibc
import Synchronization

/// A mutual-exclusion lock around a value whose waiters poll rather than queue, so that
/// unlocking is a plain release store.
///
/// Why: `Mutex` (a futex lock) pays two atomic read-modify-write instructions per critical
/// section, one to lock and one to unlock (the unlock must find out whether anyone sleeps,
/// to wake them). Each costs tens of cycles, and the rpmsg hot paths take a lock once per
/// message on each side, next to the memory fence the virtio protocol needs anyway. Here
/// locking is one compare-and-swap and unlocking a plain store: nobody ever sleeps waiting
/// to be woken. A thread that finds the lock taken spins briefly, then yields the CPU, then
/// naps for growing intervals (10 µs doubling up to 1 ms) and tries again; the lock makes
/// no fairness promise. It suits locks that are almost never contended, or whose holders
/// are quick; a waiter behind a long holder costs at most one short nap of latency and a
/// little CPU per nap.
///
/// Like `Mutex`, it is not recursive: locking it again on the thread that holds it never
/// returns.
@safe
public final class PollingLock<State: ~Copyable & Sendable>: @unchecked Sendable {
  // Invariants: `storage` points at one initialized `State`, allocated in init and
  // deinitialized and freed only in deinit. `state` is 1 exactly while one thread runs a
  // `withLock` body, and only that thread touches `storage.pointee` (the compare-and-swap
  // that sets 1 acquires, the store that resets 0 releases); that is what makes sharing
  // the object between threads safe, as with `Mutex`.
  @usableFromInline let state = Atomic<UInt32>(0)
  @usableFromInline let storage: UnsafeMutablePointer<State>

  public init(_ initialValue: consuming State) {
    unsafe storage = UnsafeMutablePointer<State>.allocate(capacity: 1)
    unsafe storage.initialize(to: initialValue)
  }

  deinit {
    unsafe storage.deinitialize(count: 1)
    unsafe storage.deallocate()
  }

  /// Runs `body` with exclusive access to the value.
  @inlinable @inline(__always)
  public func withLock<Result: ~Copyable, E: Error>(
    _ body: (inout State) throws(E) -> Result
  ) throws(E) -> Result {
    if !state.compareExchange(expected: 0, desired: 1, ordering: .acquiring).exchanged {
      lockContended()
    }
    defer { state.store(0, ordering: .releasing) }
    return try unsafe body(&storage.pointee)
  }

  /// Waits for the holder to finish: spins, yields, then naps; never returns without the
  /// lock.
  @usableFromInline @inline(never)
  func lockContended() {
    var attempt = 0
    var nap = 10_000  // nanoseconds
    while true {
      if state.load(ordering: .relaxed) == 0,
        state.compareExchange(expected: 0, desired: 1, ordering: .acquiring).exchanged
      {
        return
      }
      attempt += 1
      if attempt < 128 {
        rproc_cpu_relax()
      } else if attempt < 160 {
        sched_yield()
      } else {
        var request = timespec(tv_sec: 0, tv_nsec: nap)
        unsafe _ = nanosleep(&request, nil)
        nap = min(nap * 2, 1_000_000)
      }
    }
  }
}
