import Foundation
import Synchronization

/// CPUs given to remote processors, which the host's own threads stay off while the remote
/// runs there (Linux: the MIPS driver takes its `cpus` offline for the remote and puts
/// them back online when it stops).
///
/// Every thread of this process is moved off the reserved CPUs when a reservation is taken
/// (threads created later inherit the reduced set from their creator) and given them back
/// when it is released. One registry per process keeps two remotes off the same CPU.
package final class CPUReservation: Sendable {
  /// The CPUs, ascending.
  package let cpus: [Int]
  package let owner: String

  private static let taken = Mutex<[Int: String]>([:])

  private init(cpus: [Int], owner: String) {
    self.cpus = cpus
    self.owner = owner
  }

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
    if let online = SystemCPUs.read("online") ?? SystemCPUs.read("present"), !online.isEmpty { return online }
    var cpus = Set(CPUMask.affinity(ofThread: Int32(getpid())).cpus)
    taken.withLock { cpus.formUnion($0.keys) }
    return cpus
  }

  /// Takes `cpus` for `owner` and moves every thread of this process off them.
  package static func acquire(_ cpus: [Int], owner: String) throws(HostCPUError) -> CPUReservation? {
    guard !cpus.isEmpty else { return nil }
    let allowed = hostCPUs()
    try taken.withLock { (taken) throws(HostCPUError) in
      for cpu in cpus {
        if let holder = taken[cpu] {
          throw HostCPUError(.busy, "cpus: CPU \(cpu) is already given to \(holder)")
        }
      }
      let left = allowed.subtracting(taken.keys).subtracting(cpus)
      guard !left.isEmpty else {
        throw HostCPUError(
          .busy, "cpus: giving \(SystemCPUs.format(Set(cpus))) to \(owner) would leave the host no CPU")
      }
      for cpu in cpus { taken[cpu] = owner }
    }
    let reservation = CPUReservation(cpus: cpus, owner: owner)
    reservation.moveHostThreads(off: true)
    return reservation
  }

  /// Gives the CPUs back to the host's threads.
  package func release() {
    Self.taken.withLock { taken in
      for cpu in cpus where taken[cpu] == owner { taken[cpu] = nil }
    }
    moveHostThreads(off: false)
  }

  private func moveHostThreads(off: Bool) {
    let mask = CPUMask(cpus)
    let hostMask = CPUMask(Self.hostCPUs().subtracting(Self.taken.withLock { Array($0.keys) }))
    for tid in Self.threads() {
      if off {
        if CPUMask.edit(thread: tid, remove: mask, add: .empty) == -EINVAL {
          _ = CPUMask.edit(thread: tid, remove: mask, add: hostMask)
        }
      } else {
        _ = CPUMask.edit(thread: tid, remove: .empty, add: mask)
      }
    }
  }

  /// The ids of this process's threads (`/proc/self/task`).
  package static func threads() -> [Int32] {
    let names = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task")) ?? []
    return names.compactMap { Int32($0) }
  }
}
