import Foundation

/// `/sys/devices/system/cpu/{present,online}`: Linux cpu lists written by the kernel.
package enum SystemCPUs {
  package static func read(_ file: String) -> Set<Int>? {
    guard let text = try? String(contentsOfFile: "/sys/devices/system/cpu/\(file)", encoding: .utf8) else { return nil }
    return parse(text.trimmingCharacters(in: .whitespacesAndNewlines))
  }

  /// Parses "0-3,5"; nil when the text is not a cpu list.
  package static func parse(_ text: String) -> Set<Int>? {
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
  package static func format(_ cpus: Set<Int>) -> String {
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
