import CHostCPUShims
import Foundation
import Synchronization

/// CPUs given to remote processors, which the host's own threads stay off while the remote
/// runs there (Linux: the MIPS driver takes its `cpus` offline for the remote and puts
/// them back online when it stops).
///
/// Every thread of this process is moved off the reserved CPUs when a reservation is taken
/// (threads created later inherit the reduced set from their creator) and given them back
/// when it is released. One registry per process keeps two remotes off the same CPU.
///
/// A remote that runs on a thread of this process (an emulated core's owner thread) asks for
/// `pinsThreads` and pins that thread with ``pinCallingThread()``: it then runs on the
/// reserved CPUs only and the moves leave it alone. Threads it creates inherit its CPUs (a
/// thread pool grown from there, say), so while such a reservation is held a sweep every
/// ``sweepInterval`` moves any other thread found on a reserved CPU back off it.
package final class CPUReservation: Sendable {
  /// The CPUs, ascending.
  package let cpus: [Int]
  package let owner: String
  private let id: UInt64

  /// How often threads are checked while a thread of this process is pinned.
  package static let sweepInterval = Duration.milliseconds(100)

  private struct Registry {
    /// Who holds each reserved CPU.
    var holders: [Int: (id: UInt64, owner: String)] = [:]
    /// Threads pinned to a reservation's CPUs, which the moves leave alone.
    var pinned: [Int32: UInt64] = [:]
    /// Reservations that pin threads of this process: the sweep runs while there are any.
    var sweptFor: Set<UInt64> = []
    var sweeping = false
    var nextID: UInt64 = 1

    var takenMask: CPUMask { CPUMask(holders.keys) }
  }

  /// Held while threads are moved, so a move never sees a registry it does not match.
  private static let registry = Mutex(Registry())

  private init(cpus: [Int], owner: String, id: UInt64) {
    self.cpus = cpus
    self.owner = owner
    self.id = id
  }

  deinit { release() }

  /// Checks a `cpus` list for a remote: every CPU exists, is online, appears once, and at
  /// least one CPU stays with the host. Returns it sorted.
  package static func validate(_ cpus: [Int]) throws(HostCPUError) -> [Int] {
    var seen = Set<Int>()
    let present = SystemCPUs.read("present")
    let online = SystemCPUs.read("online")
    let allowed = hostCPUs()
    for cpu in cpus {
      guard cpu >= 0, cpu < CPUMask.capacity else {
        throw HostCPUError(
          .invalidCPUs, "cpus: \(cpu) is not a CPU number this platform can pin to (0...\(CPUMask.capacity - 1))")
      }
      guard seen.insert(cpu).inserted else {
        throw HostCPUError(.invalidCPUs, "cpus: CPU \(cpu) is listed twice")
      }
      if let present, !present.contains(cpu) {
        throw HostCPUError(
          .invalidCPUs, "cpus: CPU \(cpu) does not exist here; this machine has CPUs \(SystemCPUs.format(present))")
      }
      if let online, !online.contains(cpu) {
        throw HostCPUError(
          .invalidCPUs, "cpus: CPU \(cpu) is offline; online CPUs are \(SystemCPUs.format(online))")
      }
      guard allowed.contains(cpu) else {
        throw HostCPUError(
          .invalidCPUs, "cpus: CPU \(cpu) is not available here (CPUs \(SystemCPUs.format(allowed)))")
      }
    }
    let sorted = seen.sorted()
    if !sorted.isEmpty, allowed.subtracting(sorted).isEmpty {
      throw HostCPUError(
        .invalidCPUs,
        "cpus: \(SystemCPUs.format(Set(sorted))) would leave the host no CPU; keep at least one of \(SystemCPUs.format(allowed))")
    }
    return sorted
  }

  /// The CPUs this process may use: those online (a process may widen its own affinity to
  /// any of them; a cgroup that forbids one makes the firmware's start fail, saying so), else
  /// the main thread's affinity plus what remotes hold.
  package static func hostCPUs() -> Set<Int> {
    let held = registry.withLock { Array($0.holders.keys) }
    return hostCPUs(held: held)
  }

  private static func hostCPUs(held: some Sequence<Int>) -> Set<Int> {
    if let online = SystemCPUs.read("online") ?? SystemCPUs.read("present"), !online.isEmpty { return online }
    return Set(CPUMask.affinity(ofThread: Int32(getpid())).cpus).union(held)
  }

  /// Takes `cpus` for `owner` and moves every thread of this process off them.
  ///
  /// - Parameter pinsThreads: the remote runs on threads of this process, pinned with
  ///   ``pinCallingThread()``; the sweep runs until the reservation is released. Call from a
  ///   thread that is not to be pinned (the sweep starts there).
  package static func acquire(
    _ cpus: [Int], owner: String, pinsThreads: Bool = false
  ) throws(HostCPUError) -> CPUReservation? {
    guard !cpus.isEmpty else { return nil }
    return try registry.withLock { (registry) throws(HostCPUError) -> CPUReservation in
      for cpu in cpus {
        if let holder = registry.holders[cpu] {
          throw HostCPUError(.busy, "cpus: CPU \(cpu) is already given to \(holder.owner)")
        }
      }
      let left = hostCPUs(held: registry.holders.keys).subtracting(registry.holders.keys).subtracting(cpus)
      guard !left.isEmpty else {
        throw HostCPUError(
          .busy, "cpus: giving \(SystemCPUs.format(Set(cpus))) to \(owner) would leave the host no CPU")
      }
      let reservation = CPUReservation(cpus: cpus, owner: owner, id: registry.nextID)
      registry.nextID += 1
      for cpu in cpus { registry.holders[cpu] = (reservation.id, owner) }
      moveHostThreads(off: CPUMask(cpus), registry)
      if pinsThreads {
        registry.sweptFor.insert(reservation.id)
        if !registry.sweeping {
          registry.sweeping = true
          startSweeping()
        }
      }
      return reservation
    }
  }

  /// Pins the calling thread to the reserved CPUs (`sched_setaffinity`) until ``release()``;
  /// the moves of host threads leave it alone meanwhile. Throws when the system refuses (a
  /// cgroup that forbids one of the CPUs) or the reservation was released.
  package func pinCallingThread() throws(HostCPUError) {
    try Self.registry.withLock { (registry) throws(HostCPUError) in
      guard registry.holders[cpus[0]]?.id == id else {
        throw HostCPUError(.busy, "cpus: \(SystemCPUs.format(Set(cpus))) no longer belong to \(owner)")
      }
      let result = CPUMask.edit(thread: 0, remove: CPUMask(0..<CPUMask.capacity), add: CPUMask(cpus))
      guard result == 0 else {
        throw HostCPUError(
          .system, "cpus: cannot pin \(owner)'s thread to CPUs \(SystemCPUs.format(Set(cpus))): sched_setaffinity failed",
          errno: -result)
      }
      registry.pinned[rproc_gettid()] = id
    }
  }

  /// Gives the CPUs back to the host's threads, and forgets the threads pinned to them.
  /// Idempotent; also done when the reservation is dropped.
  package func release() {
    Self.registry.withLock { registry in
      let pinned = registry.pinned.filter { $0.value == id }.keys
      for tid in pinned { registry.pinned[tid] = nil }
      registry.sweptFor.remove(id)
      let held = cpus.filter { registry.holders[$0]?.id == id }
      guard !held.isEmpty else { return }
      for cpu in held { registry.holders[cpu] = nil }
      let mask = CPUMask(held)
      Self.forEachThread { tid in
        if registry.pinned[tid] == nil { _ = CPUMask.edit(thread: tid, remove: .empty, add: mask) }
      }
    }
  }

  /// Moves every thread that is not pinned off `mask` (onto the CPUs no remote holds when
  /// `mask` was all it had).
  private static func moveHostThreads(off mask: CPUMask, _ registry: borrowing Registry) {
    let hostMask = CPUMask(hostCPUs(held: registry.holders.keys).subtracting(registry.holders.keys))
    forEachThread { tid in
      guard registry.pinned[tid] == nil else { return }
      if CPUMask.edit(thread: tid, remove: mask, add: .empty) == -EINVAL {
        _ = CPUMask.edit(thread: tid, remove: mask, add: hostMask)
      }
    }
  }

  /// Calls `body` once for every thread of this process, listing them again until no new one
  /// appears: a thread created meanwhile by one not yet visited would otherwise inherit the
  /// old CPUs and be missed (one created by a visited thread inherits the new ones).
  private static func forEachThread(_ body: (Int32) -> Void) {
    var seen = Set<Int32>()
    for _ in 0..<10 {
      let fresh = threads().filter { !seen.contains($0) }
      guard !fresh.isEmpty else { return }
      for tid in fresh { body(tid) }
      seen.formUnion(fresh)
    }
  }

  /// While a reservation that pins threads is held: every ``sweepInterval``, moves threads
  /// that are not pinned off the reserved CPUs, and forgets pinned threads that have ended.
  /// (A task, not a thread of its own: the one it runs on is swept like any other.)
  private static func startSweeping() {
    Task.detached(priority: .utility) {
      while true {
        try? await Task.sleep(for: sweepInterval)
        let goOn = registry.withLock { registry in
          guard !registry.sweptFor.isEmpty else {
            registry.sweeping = false
            return false
          }
          let live = Set(threads())
          registry.pinned = registry.pinned.filter { live.contains($0.key) }
          let taken = registry.takenMask
          let strays = live.filter { tid in
            registry.pinned[tid] == nil && CPUMask.affinity(ofThread: tid).intersects(taken)
          }
          if !strays.isEmpty { moveHostThreads(off: taken, registry) }
          return true
        }
        if !goOn { return }
      }
    }
  }

  /// The ids of this process's threads (`/proc/self/task`).
  package static func threads() -> [Int32] {
    let names = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task")) ?? []
    return names.compactMap { Int32($0) }
  }
}
