import Foundation
import RemoteprocOpenAMP
import Testing

/// A folder of its own for one test's shared-memory file and socket (short: a socket path has
/// at most 107 bytes), so tests run in parallel; OpenAMP's layout otherwise.
struct Scratch {
  let directory: String
  var configuration: OpenAMPConfiguration

  init() throws {
    directory = "/tmp/oa-\(UUID().uuidString.prefix(12))"
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: false)
    configuration = OpenAMPConfiguration(
      sharedMemoryPath: directory + "/openamp.shm", socketPath: directory + "/openamp.event.0")
  }

  func remove() { try? FileManager.default.removeItem(atPath: directory) }
}

/// Polls `condition` until it holds, failing after `seconds` (only so a broken build cannot
/// hang the suite; nothing depends on speed).
func eventually(
  _ what: String, seconds: Double = 20, sourceLocation: SourceLocation = #_sourceLocation,
  _ condition: () async throws -> Bool
) async throws {
  let deadline = Date().addingTimeInterval(seconds)
  while Date() < deadline {
    if try await condition() { return }
    try await Task.sleep(for: .milliseconds(2))
  }
  Issue.record("timed out after \(seconds) s waiting for \(what)", sourceLocation: sourceLocation)
  throw CancellationError()
}
