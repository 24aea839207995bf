import CProcessShims
import Foundation
import Remoteproc
import Synchronization

/// CPUs given to remote processes, which the host's own threads stay off while the remote
/// runs there (Linux: the MIPS driver takes its `cpus` offline for the remote and puts
/// them back online when it stops).
///
/// Every thread of this process is moved off the reserved CPUs when a reservation is taken
/// (threads created later inherit the reduced set from their creator) and given them back
/// when it is released. One registry per process keeps two remotes off the same CPU.
final class CPUReservation: Sendable {
  /// The CPUs, ascending.
  let cpus: [Int]
  let owner: String

  private static let taken = Mutex<[Int: String]>([:])

  private init(cpus: [Int], owner: String) {
    self.cpus = cpus
    self.owner = owner
  }

  /// Checks a `cpus` list for a remote: every CPU exists, is online, appears once, and at
  /// least one CPU stays with the host. Returns it sorted.
  static func validate(_ cpus: [Int]) throws(RemoteprocError) -> [Int] {
    var seen = Set<Int>()
    let present = SystemCPUs.read("present")
    let online = SystemCPUs.read("online")
    let allowed = hostCPUs()
    for cpu in cpus {
      guard cpu >= 0, cpu < Int(RPROC_MAX_CPUS) else {
        throw RemoteprocError(
          .invalidArgument, "cpus: \(cpu) is not a CPU number this platform can pin to (0...\(RPROC_MAX_CPUS - 1))")
      }
      guard seen.insert(cpu).inserted else {
        throw RemoteprocError(.invalidArgument, "cpus: CPU \(cpu) is listed twice")
      }
      if let present, !present.contains(cpu) {
        throw RemoteprocError(
          .invalidArgument, "cpus: CPU \(cpu) does not exist here; this machine has CPUs \(SystemCPUs.format(present))")
      }
      if let online, !online.contains(cpu) {
        throw RemoteprocError(
          .invalidArgument, "cpus: CPU \(cpu) is offline; online CPUs are \(SystemCPUs.format(online))")
      }
      guard allowed.contains(cpu) else {
        throw RemoteprocError(
          .invalidArgument, "cpus: CPU \(cpu) is not available here (CPUs \(SystemCPUs.format(allowed)))")
      }
    }
    let sorted = seen.sorted()
    if !sorted.isEmpty, allowed.subtracting(sorted).isEmpty {
      throw RemoteprocError(
        .invalidArgument,
        "cpus: \(SystemCPUs.format(Set(sorted))) would leave the host no CPU; keep at least one of \(SystemCPUs.format(allowed))")
    }
    return sorted
  }

  /// The CPUs this process may use: those online (a process may widen its own affinity to
  /// any of them; a cgroup that forbids one makes the firmware's start fail, saying so), else
  /// the main thread's affinity plus what remotes hold.
  static func hostCPUs() -> Set<Int> {
    if let online = SystemCPUs.read("online") ?? SystemCPUs.read("present"), !online.isEmpty { return online }
    var cpus = Set(CPUMask.affinity(ofThread: Int32(getpid())).cpus)
    taken.withLock { cpus.formUnion($0.keys) }
    return cpus
  }

  /// Takes `cpus` for `owner` and moves every thread of this process off them.
  static func acquire(_ cpus: [Int], owner: String) throws(RemoteprocError) -> CPUReservation? {
    guard !cpus.isEmpty else { return nil }
    let allowed = hostCPUs()
    try taken.withLock { (taken) throws(RemoteprocError) in
      for cpu in cpus {
        if let holder = taken[cpu] {
          throw RemoteprocError(.busy, "cpus: CPU \(cpu) is already given to \(holder)")
        }
      }
      let left = allowed.subtracting(taken.keys).subtracting(cpus)
      guard !left.isEmpty else {
        throw RemoteprocError(
          .busy, "cpus: giving \(SystemCPUs.format(Set(cpus))) to \(owner) would leave the host no CPU")
      }
      for cpu in cpus { taken[cpu] = owner }
    }
    let reservation = CPUReservation(cpus: cpus, owner: owner)
    reservation.moveHostThreads(off: true)
    return reservation
  }

  /// Gives the CPUs back to the host's threads.
  func release() {
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
  static func threads() -> [Int32] {
    let names = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task")) ?? []
    return names.compactMap { Int32($0) }
  }
}

/// A set of CPUs 0...255 as the four words the C shims take.
struct CPUMask: Hashable, Sendable {
  private(set) var words: [UInt64] = [0, 0, 0, 0]

  static var empty: CPUMask { CPUMask([]) }

  init<S: Sequence<Int>>(_ cpus: S) {
    for cpu in cpus where cpu >= 0 && cpu < Int(RPROC_MAX_CPUS) { words[cpu / 64] |= 1 << UInt64(cpu % 64) }
  }

  var cpus: [Int] {
    (0..<Int(RPROC_MAX_CPUS)).filter { words[$0 / 64] >> UInt64($0 % 64) & 1 == 1 }
  }

  /// Thread `tid`'s affinity (empty when it does not exist).
  static func affinity(ofThread tid: Int32) -> CPUMask {
    var mask = CPUMask.empty
    mask.words = (0..<4).map { rproc_thread_affinity_word(tid, Int32($0)) }
    return mask
  }

  /// Removes `remove` from thread `tid`'s affinity, then adds `add`. Returns 0 or -errno
  /// (-EINVAL: the set would be empty, and was left alone).
  static func edit(thread tid: Int32, remove: CPUMask, add: CPUMask) -> Int32 {
    rproc_thread_affinity_edit(
      tid, remove.words[0], remove.words[1], remove.words[2], remove.words[3],
      add.words[0], add.words[1], add.words[2], add.words[3])
  }
}

/// `/sys/devices/system/cpu/{present,online}`: Linux cpu lists written by the kernel.
enum SystemCPUs {
  static func read(_ file: String) -> Set<Int>? {
    guard let text = try? String(contentsOfFile: "/sys/devices/system/cpu/\(file)", encoding: .utf8) else { return nil }
    return parse(text.trimmingCharacters(in: .whitespacesAndNewlines))
  }

  /// Parses "0-3,5"; nil when the text is not a cpu list.
  static func parse(_ text: String) -> Set<Int>? {
    var cpus = Set<Int>()
    for part in text.split(separator: ",") {
      let bounds = part.split(separator: "-")
      guard (1...2).contains(bounds.count), let first = Int(bounds[0]), let last = Int(bounds[bounds.count - 1]),
        first >= 0, first <= last, last < 1 << 16
      else { return nil }
      cpus.formUnion(first...last)
    }
    return cpus
  }

  /// "0-1,3".
  static func format(_ cpus: Set<Int>) -> String {
    let sorted = cpus.sorted()
    var parts: [String] = []
    var i = 0
    while i < sorted.count {
      var j = i
      while j + 1 < sorted.count, sorted[j + 1] == sorted[j] + 1 { j += 1 }
      parts.append(i == j ? "\(sorted[i])" : "\(sorted[i])-\(sorted[j])")
      i = j + 1
    }
    return parts.isEmpty ? "none" : parts.joined(separator: ",")
  }
}
