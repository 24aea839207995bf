import Firmware
import Foundation
import RemoteprocEmulated
import Testing

/// The example firmware, built by `firmware/build.sh` (once per test run; the script does
/// nothing when the images are newer than their sources).
enum FirmwareImages {
  static let root = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
  static let buildDirectory = root.appendingPathComponent("firmware/build")

  enum Availability: Sendable {
    case built
    /// The toolchain has no clang: the emulated tests cannot run here.
    case noCompiler(String)
    /// The build failed: a real failure.
    case buildFailed(String)
  }

  static let availability: Availability = build()

  /// True when the firmware could be built, or when it could not for a reason that must fail
  /// the tests (then ``requireImages()`` fails them). False only without a compiler.
  static var canRun: Bool {
    if case .noCompiler(let why) = availability {
      print("⚠️ RemoteprocEmulatedTests SKIPPED: \(why)")
      return false
    }
    return true
  }

  static func requireImages() throws {
    if case .buildFailed(let output) = availability {
      Issue.record("firmware/build.sh failed:\n\(output)")
      throw BuildFailure()
    }
  }

  struct BuildFailure: Error {}

  private static func build() -> Availability {
    let clangs = ["/opt/swift/usr/bin/clang"] + (ProcessInfo.processInfo.environment["CLANG"].map { [$0] } ?? [])
    let pathClang = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":")
      .map { "\($0)/clang" }
    guard (clangs + pathClang).contains(where: { FileManager.default.isExecutableFile(atPath: $0) })
    else {
      return .noCompiler("no clang on PATH or in /opt/swift: cannot build firmware/")
    }
    let process = Process()
    process.executableURL = root.appendingPathComponent("firmware/build.sh")
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    do {
      try process.run()
    } catch {
      return .buildFailed("cannot run firmware/build.sh: \(error)")
    }
    let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    return process.terminationStatus == 0 ? .built : .buildFailed(output)
  }

  /// `firmware/build/<example>-<machine>.elf`, parsed.
  static func image(_ example: String, for machine: EmulatedMachine) throws -> ELFImage {
    try requireImages()
    let url = buildDirectory.appendingPathComponent("\(example)-\(machine.name).elf")
    let bytes = try Data(contentsOf: url)
    return try ELFImage(bytes: Array(bytes))
  }
}

/// Waits (polling) until `condition` holds, failing the test after `seconds`. The deadline only
/// keeps a broken build from hanging the suite; no test depends on speed.
func eventually(
  _ what: String, seconds: Double = 20, sourceLocation: SourceLocation = #_sourceLocation,
  _ condition: () throws -> Bool
) rethrows {
  let deadline = Date().addingTimeInterval(seconds)
  while Date() < deadline {
    if try condition() { return }
    usleep(500)
  }
  Issue.record("timed out after \(seconds) s waiting for \(what)", sourceLocation: sourceLocation)
}
