import Foundation
import Remoteproc

/// What a host writes down about a running firmware process so that the next host (after a
/// restart) can find it and attach: which process, how to tell it is still the same one,
/// and which of its descriptors is the shared memory.
///
/// One JSON file per platform name, `<directory>/<name>.json`, written when the firmware has
/// started (or been attached to) and removed when it stops.
struct ProcessStateFile: Codable, Hashable, Sendable {
  /// The platform's name.
  var name: String
  var pid: Int32
  /// Field 22 of `/proc/<pid>/stat` (start time in clock ticks since boot): a process id
  /// reused by another process does not match.
  var startTime: UInt64
  /// The memfd's descriptor number in the firmware process.
  var memoryDescriptor: Int32
  var memorySize: Int
  var cpus: [Int]

  /// The default directory: `$XDG_RUNTIME_DIR/swift-remoteproc`, else
  /// `/tmp/swift-remoteproc-<uid>`.
  static var defaultDirectory: String {
    if let runtime = ProcessInfo.processInfo.environment["XDG_RUNTIME_DIR"], !runtime.isEmpty {
      return runtime + "/swift-remoteproc"
    }
    return "/tmp/swift-remoteproc-\(getuid())"
  }

  static func path(directory: String, name: String) -> String { "\(directory)/\(name).json" }

  func write(directory: String) throws(RemoteprocError) {
    do {
      try FileManager.default.createDirectory(
        atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
      let data = try JSONEncoder().encode(self)
      try data.write(to: URL(fileURLWithPath: Self.path(directory: directory, name: name)), options: .atomic)
    } catch {
      throw RemoteprocError(.platform, "writing the state file in \(directory): \(error.localizedDescription)")
    }
  }

  static func read(directory: String, name: String) -> ProcessStateFile? {
    guard let data = FileManager.default.contents(atPath: path(directory: directory, name: name)) else { return nil }
    return try? JSONDecoder().decode(ProcessStateFile.self, from: data)
  }

  static func remove(directory: String, name: String) {
    try? FileManager.default.removeItem(atPath: path(directory: directory, name: name))
  }

  /// The start time of process `pid`, or nil when it does not exist.
  static func startTime(of pid: Int32) -> UInt64? {
    guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
      let close = text.lastIndex(of: ")")
    else { return nil }
    // After "pid (comm)": field 3 is the state; the start time is field 22.
    let fields = text[text.index(after: close)...].split(separator: " ")
    guard fields.count > 19 else { return nil }
    return UInt64(fields[19])
  }

  /// Whether the process this file names still runs (same pid and start time, not a zombie).
  var processIsAlive: Bool {
    guard Self.startTime(of: pid) == startTime,
      let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
      let close = text.lastIndex(of: ")")
    else { return false }
    let state = text[text.index(after: close)...].split(separator: " ").first
    return state != "Z" && state != "X"
  }
}
