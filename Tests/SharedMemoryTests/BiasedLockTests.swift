import SharedMemory
import Synchronization
import Testing

@Suite struct BiasedLockTests {
  final class Flags: Sendable {
    let count = Atomic<Int>(0)
    let flag = Atomic<Bool>(false)
  }

  struct Counter: ~Copyable, Sendable {
    var value = 0
    var inside = 0
  }

  /// Threads hammer one lock; a plain (non-atomic) counter inside comes out exact, and no
  /// two bodies ever overlap.
  @Test func bodiesNeverOverlapAndNoUpdateIsLost() async {
    let lock = BiasedLock(Counter())
    let overlaps = Flags()
    let threads = 4, rounds = 20_000
    await withTaskGroup(of: Void.self) { group in
      for _ in 0..<threads {
        group.addTask {
          for _ in 0..<rounds {
            lock.withLock { c in
              c.inside += 1
              if c.inside != 1 { overlaps.count.add(1, ordering: .relaxed) }
              c.value += 1
              c.inside -= 1
            }
          }
        }
      }
    }
    let total = lock.withLock { $0.value }
    let overlapped = overlaps.count.load(ordering: .relaxed)
    #expect(total == threads * rounds)
    #expect(overlapped == 0)
  }

  /// The first thread owns the bias; another thread arriving while the owner is inside a
  /// long body revokes the bias, waits for the owner to leave, and both go on under the
  /// compare-and-swap lock.
  @Test func revocationWaitsForTheOwnerInside() async {
    let lock = BiasedLock(Counter())
    let flags = Flags()
    lock.withLock { $0.value = 1 }  // this thread: the owner
    let other = Task.detached {
      while !flags.flag.load(ordering: .acquiring) {}
      return lock.withLock { c -> Int in  // revokes
        c.value += 10
        return c.value
      }
    }
    lock.withLock { c in
      flags.flag.store(true, ordering: .releasing)
      let end = ContinuousClock.now.advanced(by: .milliseconds(20))
      while ContinuousClock.now < end {}
      c.value += 100  // the other thread must not have run yet
    }
    let seenByOther = await other.value
    #expect(seenByOther == 111)
    lock.withLock { $0.value += 1000 }  // the former owner, after revocation
    let total = lock.withLock { $0.value }
    #expect(total == 1111)
  }

  @Test func lockingAgainOnTheOwnerThreadTraps() async {
    await #expect(processExitsWith: .failure) {
      let lock = BiasedLock(0)
      lock.withLock { _ in lock.withLock { _ in } }
    }
  }

  /// A waiter behind a long holder (it naps rather than spins) still gets the lock.
  @Test func aWaiterBehindALongHolderGetsTheLock() async throws {
    let lock = BiasedLock(Counter())
    let holding = Flags()
    let holder = Task.detached {
      lock.withLock { c in
        holding.flag.store(true, ordering: .releasing)
        let end = ContinuousClock.now.advanced(by: .milliseconds(30))
        while ContinuousClock.now < end {}
        c.value = 1
      }
    }
    while !holding.flag.load(ordering: .acquiring) { await Task.yield() }
    let seen = lock.withLock { $0.value }  // waits for the holder
    #expect(seen == 1)
    await holder.value
  }

  @Test func bodiesReturnValuesAndRethrowTypedErrors() {
    struct Nope: Error {}
    let lock = BiasedLock(Counter())
    #expect(lock.withLock { c -> Int in c.value += 5; return c.value } == 5)
    #expect(throws: Nope.self) {
      try lock.withLock { (_: inout Counter) throws(Nope) in throw Nope() }
    }
    #expect(lock.withLock { $0.value } == 5)  // unlocked again after the throw
  }

  /// The value is destroyed with the lock (a noncopyable value with a deinit).
  @Test func theValueIsDestroyedWithTheLock() {
    final class Flag: Sendable { let dead = Atomic<Bool>(false) }
    struct Tracked: ~Copyable, Sendable {
      let flag: Flag
      deinit { flag.dead.store(true, ordering: .relaxed) }
    }
    let flag = Flag()
    do {
      let lock = BiasedLock(Tracked(flag: flag))
      lock.withLock { _ in }
    }
    let dead = flag.dead.load(ordering: .relaxed)
    #expect(dead)
  }
}
