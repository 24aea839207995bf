import CSharedMemoryShims
import Glibc
import Synchronization

/// A mutual-exclusion lock around a value, biased to the first thread that takes it: that
/// thread locks and unlocks with plain stores, every other thread with one
/// compare-and-swap; waiters poll instead of sleeping in a queue.
///
/// Why: `Mutex` (a futex lock) pays two atomic read-modify-write instructions per critical
/// section, tens of cycles each, and the rpmsg hot paths take a lock per message on each
/// side, often all on one thread (an in-process remote, an emulated core's owner thread,
/// a benchmark).
///
/// How (asymmetric Dekker, as in liburcu and folly): the owner announces itself with a
/// plain store to `ownerInside` and then re-reads `bias`; it needs no fence because a
/// thread that wants the lock while the bias stands *revokes* it: it takes `word`, sets
/// `bias` to revoked, calls `membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED)` (every running
/// thread of the process executes a full barrier), and then waits for `ownerInside` to be
/// 0. After that either the owner saw the revocation, or the revoker saw the owner inside
/// and waited for it to leave. Revocation is once and for all: from then on everyone,
/// the former owner included, takes `word` with a compare-and-swap and releases it with a
/// plain store. Without membarrier (an old kernel), the lock is never biased.
///
/// Waiting: nobody sleeps waiting to be woken, so unlocking never needs an atomic
/// read-modify-write to find sleepers. A thread that finds the lock taken spins briefly,
/// then yields, then naps 10 µs doubling up to 1 ms, and tries again; there is no fairness
/// promise. A waiter behind a long holder loses at most one nap of latency.
///
/// Not recursive: locking again on the thread that holds it traps (biased owner) or never
/// returns (anyone else), as with `Mutex`.
@safe
public final class BiasedLock<State: ~Copyable & Sendable>: @unchecked Sendable {
  // Invariants: `storage` points at one initialized `State`, allocated in init and
  // deinitialized and freed only in deinit. At most one thread runs a `withLock` body at a
  // time, and only that thread touches `storage.pointee`:
  // - `bias` is 0 (nobody yet), a thread's `pthread_self()` (that thread may enter after
  //   storing `ownerInside = 1` and re-reading `bias` unchanged), or `revoked`;
  // - every other entry holds `word` (0 → 1 by compare-and-swap, acquire), and enters only
  //   once `bias` is `revoked` and `ownerInside` is 0 (revocation above);
  // - leaving stores 0 to `ownerInside` or to `word` with release, so the next holder
  //   sees the value as the last one left it.
  @usableFromInline let word = Atomic<UInt32>(0)
  @usableFromInline let bias = Atomic<UInt>(0)
  @usableFromInline let ownerInside = Atomic<UInt32>(0)
  @usableFromInline let storage: UnsafeMutablePointer<State>

  @usableFromInline static var revoked: UInt { .max }

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
    let me = UInt(pthread_self())
    var asOwner = false
    if bias.load(ordering: .relaxed) == me {
      precondition(ownerInside.load(ordering: .relaxed) == 0, "BiasedLock is not recursive")
      ownerInside.store(1, ordering: .relaxed)
      rproc_compiler_barrier()  // the store above stays before the load below
      if bias.load(ordering: .acquiring) == me {
        asOwner = true
      } else {
        ownerInside.store(0, ordering: .releasing)  // revoked meanwhile
      }
    }
    if !asOwner {
      // Everyone else: one compare-and-swap on `word`, then the bias must be revoked
      // (settled once; anything else is the out-of-line path).
      let haveWord = word.compareExchange(expected: 0, desired: 1, ordering: .acquiring).exchanged
      if !haveWord || bias.load(ordering: .acquiring) != Self.revoked {
        asOwner = enterUnbiased(me, haveWord: haveWord)
      }
    }
    defer {
      if asOwner {
        ownerInside.store(0, ordering: .releasing)
      } else {
        word.store(0, ordering: .releasing)
      }
    }
    return try unsafe body(&storage.pointee)
  }

  /// The out-of-line part of entering without the bias: waits for `word` unless
  /// `haveWord`, then settles the bias. Returns true when the caller claimed the bias (it
  /// is inside as the owner, `word` released), false when it holds `word` and the bias is
  /// revoked.
  @usableFromInline @inline(never)
  func enterUnbiased(_ me: UInt, haveWord: Bool) -> Bool {
    if !haveWord { lockWord() }
    let current = bias.load(ordering: .acquiring)
    if current == Self.revoked { return false }
    if current == 0 {
      // Nobody ever held the lock: the first thread takes the bias (when it can be revoked).
      if membarrierAvailable,
        bias.compareExchange(expected: 0, desired: me, ordering: .relaxed).exchanged
      {
        ownerInside.store(1, ordering: .relaxed)
        word.store(0, ordering: .releasing)  // publishes ownerInside = 1 to the next taker
        return true
      }
      bias.store(Self.revoked, ordering: .relaxed)
      return false
    }
    // Another thread holds the bias: revoke it for good and wait until it is not inside.
    bias.store(Self.revoked, ordering: .relaxed)
    _ = rproc_membarrier()  // cannot fail once registered
    var attempt = 0
    while ownerInside.load(ordering: .acquiring) != 0 { Self.pause(&attempt) }
    return false
  }

  @usableFromInline
  func lockWord() {
    var attempt = 0
    while true {
      if word.load(ordering: .relaxed) == 0,
        word.compareExchange(expected: 0, desired: 1, ordering: .acquiring).exchanged
      {
        return
      }
      Self.pause(&attempt)
    }
  }

  /// One step of waiting: spin, then yield, then nap 10 µs doubling to 1 ms.
  static func pause(_ attempt: inout Int) {
    attempt += 1
    if attempt < 128 {
      rproc_cpu_relax()
    } else if attempt < 160 {
      sched_yield()
    } else {
      var request = timespec(tv_sec: 0, tv_nsec: min(10_000 << min(attempt - 160, 7), 1_000_000))
      unsafe _ = nanosleep(&request, nil)
    }
  }
}

/// True once this process registered for expedited membarrier (done on first use).
private let membarrierAvailable: Bool = rproc_membarrier_register() == 0
