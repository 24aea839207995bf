import Foundation
import Glibc
import Synchronization
import SysfsFilesystem

/// What a shell command did.
struct ShellResult: Sendable {
  var status: Int32
  var output: String
  var error: String
}

/// Runs `/bin/sh -c script` with `arguments` as $1…, as a user at a terminal would, without
/// blocking a thread of the concurrency pool while it runs (the file system's closures
/// need those threads).
final class Shell: Sendable {
  let process: Process
  private let output = Pipe()
  private let error = Pipe()
  private let finished = Gate()

  init(_ script: String, arguments: [String] = []) throws {
    process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/sh")
    process.arguments = ["-c", script, "sh"] + arguments
    process.standardOutput = output
    process.standardError = error
    process.standardInput = FileHandle.nullDevice
    process.terminationHandler = { [finished] _ in finished.open() }
    try process.run()
  }

  /// Waits for the command to end and returns what it printed. If the test is cancelled
  /// (its time limit passed), the command is killed, so the test can unmount and fail.
  func result() async -> ShellResult {
    await withTaskCancellationHandler {
      await finished.wait()
    } onCancel: { [process] in
      kill(process.processIdentifier, SIGKILL)
    }
    let out = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    let err = String(decoding: error.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    return ShellResult(status: process.terminationStatus, output: out, error: err)
  }

  static func run(_ script: String, _ arguments: String...) async throws -> ShellResult {
    try await Shell(script, arguments: arguments).result()
  }
}

/// A one-shot latch: ``wait()`` returns once ``open()`` was called.
final class Gate: Sendable {
  private let state: Mutex<(open: Bool, waiters: [CheckedContinuation<Void, Never>])> = Mutex((false, []))

  func open() {
    let waiters = state.withLock { state in
      state.open = true
      defer { state.waiters = [] }
      return state.waiters
    }
    for waiter in waiters { waiter.resume() }
  }

  func wait() async {
    await withCheckedContinuation { continuation in
      let open = state.withLock { state in
        if !state.open { state.waiters.append(continuation) }
        return state.open
      }
      if open { continuation.resume() }
    }
  }

  /// Waits for the gate, or for the task to be cancelled; true when cancelled.
  func waitUnlessCancelled() async -> Bool {
    await withTaskCancellationHandler { await wait() } onCancel: { open() }
    return Task.isCancelled
  }
}

/// Mounts `tree` in a new temporary directory, runs `body` with its path, and always
/// unmounts and removes the directory, whether `body` succeeds or throws.
func withMount(
  _ tree: SysfsTree, _ body: (String) async throws -> Void
) async throws {
  let directory = FileManager.default.temporaryDirectory
    .appendingPathComponent("sysfs-test-\(UUID().uuidString)").path
  try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: false)
  defer { try? FileManager.default.removeItem(atPath: directory) }
  let filesystem = try SysfsFilesystem.mount(tree, at: directory, name: "sysfs-test")
  do {
    try await body(directory)
  } catch {
    await filesystem.unmount()
    throw error
  }
  await filesystem.unmount()
}

/// Whether `directory` is a mount point now (from /proc/self/mounts).
func isMounted(_ directory: String) -> Bool {
  let mounts = (try? String(contentsOfFile: "/proc/self/mounts", encoding: .utf8)) ?? ""
  return mounts.split(separator: "\n").contains { $0.split(separator: " ").dropFirst().first == Substring(directory) }
}

/// A value shared between a test and the closures of its files.
final class Locked<Value: Sendable>: Sendable {
  private let mutex: Mutex<Value>
  init(_ value: Value) { mutex = Mutex(value) }
  var value: Value { mutex.withLock { $0 } }
  func withLock<Result>(_ body: (inout Value) -> Result) -> Result { mutex.withLock { body(&$0) } }
}
