import Foundation

/// A set of CPU numbers written as a Linux cpu list: `"2-3,5"`, `"0"`, `"1,3-4"`.
/// Linux: `cpulist_parse` / `bitmap_parselist`, as in `/sys/devices/system/cpu/present`
/// and `taskset -c`. The strided form (`0-7:2/4`) is not accepted.
public struct CPUSet: Hashable, Sendable, CustomStringConvertible {
  /// The CPU numbers, ascending.
  public private(set) var cpus: [Int]

  /// Parses a cpu list; throws a message saying what is wrong and where.
  public init(parsing text: String) throws(CPUSet.ParseError) {
    guard !text.isEmpty else { throw ParseError("is empty; write CPU numbers such as \"2-3,5\"") }
    var set = Set<Int>()
    for (index, part) in text.split(separator: ",", omittingEmptySubsequences: false).enumerated() {
      let bounds = part.split(separator: "-", omittingEmptySubsequences: false)
      guard bounds.count <= 2, let first = Self.number(bounds[0]), let last = Self.number(bounds.last!) else {
        throw ParseError(
          "item \(index + 1), \(String(part).debugDescription), is not a CPU number or a range such as 2-3")
      }
      guard first <= last else {
        throw ParseError("range \(part) runs backwards; write \(last)-\(first)")
      }
      set.formUnion(first...last)
    }
    cpus = set.sorted()
  }

  /// The CPUs `cpus`.
  public init<S: Sequence<Int>>(_ cpus: S) {
    self.cpus = Set(cpus).sorted()
  }

  /// The CPUs present on this machine (Linux: `/sys/devices/system/cpu/present`), or
  /// `0..<activeProcessorCount` where that file cannot be read.
  public static var present: CPUSet {
    if let text = try? String(contentsOfFile: "/sys/devices/system/cpu/present", encoding: .utf8),
      let set = try? CPUSet(parsing: text.trimmingCharacters(in: .whitespacesAndNewlines))
    {
      return set
    }
    return CPUSet(0..<ProcessInfo.processInfo.activeProcessorCount)
  }

  public func contains(_ cpu: Int) -> Bool { cpus.contains(cpu) }

  /// The canonical cpu list (`2-3,5`).
  public var description: String {
    var parts: [String] = []
    var index = 0
    while index < cpus.count {
      var end = index
      while end + 1 < cpus.count, cpus[end + 1] == cpus[end] + 1 { end += 1 }
      parts.append(end == index ? "\(cpus[index])" : "\(cpus[index])-\(cpus[end])")
      index = end + 1
    }
    return parts.joined(separator: ",")
  }

  private static func number(_ text: Substring) -> Int? {
    guard !text.isEmpty, text.count <= 5, text.allSatisfy(\.isASCII), text.allSatisfy(\.isNumber) else { return nil }
    return Int(text)
  }

  /// Why a cpu list was refused.
  public struct ParseError: Error, Hashable, Sendable, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
  }
}
