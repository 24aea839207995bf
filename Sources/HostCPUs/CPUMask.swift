import CHostCPUShims

/// A set of CPUs 0...255 as the four words the C shims take.
package struct CPUMask: Hashable, Sendable {
  /// CPUs a mask can name (`RPROC_MAX_CPUS`).
  package static var capacity: Int { Int(RPROC_MAX_CPUS) }

  package private(set) var words: [UInt64] = [0, 0, 0, 0]

  package static var empty: CPUMask { CPUMask([]) }

  package init<S: Sequence<Int>>(_ cpus: S) {
    for cpu in cpus where cpu >= 0 && cpu < Self.capacity { words[cpu / 64] |= 1 << UInt64(cpu % 64) }
  }

  package var cpus: [Int] {
    (0..<Self.capacity).filter { words[$0 / 64] >> UInt64($0 % 64) & 1 == 1 }
  }

  /// Thread `tid`'s affinity (empty when it does not exist; 0: the calling thread).
  package static func affinity(ofThread tid: Int32) -> CPUMask {
    var mask = CPUMask.empty
    mask.words = (0..<4).map { rproc_thread_affinity_word(tid, Int32($0)) }
    return mask
  }

  /// Removes `remove` from thread `tid`'s affinity, then adds `add` (0: the calling thread).
  /// Returns 0 or -errno (-EINVAL: the set would be empty, and was left alone).
  package static func edit(thread tid: Int32, remove: CPUMask, add: CPUMask) -> Int32 {
    rproc_thread_affinity_edit(
      tid, remove.words[0], remove.words[1], remove.words[2], remove.words[3],
      add.words[0], add.words[1], add.words[2], add.words[3])
  }
}

extension CPUMask {
  /// True when the two masks share a CPU.
  package func intersects(_ other: CPUMask) -> Bool {
    zip(words, other.words).contains { $0 & $1 != 0 }
  }
}
