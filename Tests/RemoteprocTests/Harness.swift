import Firmware
import Foundation
import Remoteproc
import RemoteprocTesting
import SharedMemory
import Synchronization
import Testing

/// A registry, a test platform and a temporary firmware directory for one test.
struct Harness {
  let directory: URL
  let platform: TestPlatform
  let registry = RemoteprocRegistry()
  let processor: RemoteProcessor
  let image: TestFirmwareImage

  init(
    image: TestFirmwareImage = TestFirmwareImage(), options: RemoteProcessor.Options = .init(),
    platform: TestPlatform? = nil, drivers: (any VirtioDriverFactory)? = nil,
    program: TestFirmwareProgram? = nil
  ) async throws {
    directory = FileManager.default.temporaryDirectory.appendingPathComponent("rproc-test-\(UUID())")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    try image.write(to: directory, name: "fw.elf")
    self.image = image
    self.platform = try platform ?? TestPlatform()
    if let program { self.platform.setProgram(program) }
    processor = await registry.add(
      name: "test-core", firmware: "fw.elf", platform: self.platform,
      firmwareStore: FirmwareStore(directories: [directory.path]), drivers: drivers, options: options
    ).processor
  }

  /// Writes another image into the firmware directory.
  func add(_ image: TestFirmwareImage, as name: String) throws {
    try image.write(to: directory, name: name)
  }

  func region(_ da: UInt64, _ length: Int) -> MemoryRegion? {
    platform.memory.translate(deviceAddress: da, length: length)
  }

  /// Waits (up to 5 s) until `condition` holds.
  func eventually(_ condition: () async -> Bool) async -> Bool {
    for _ in 0..<5000 {
      if await condition() { return true }
      try? await Task.sleep(for: .milliseconds(1))
    }
    return await condition()
  }

  func tearDown() async {
    await registry.remove(processor)
    await platform.terminateFirmware()
    try? FileManager.default.removeItem(at: directory)
  }
}

/// Expects `body` to fail with a RemoteprocError of `code` and returns its message.
@discardableResult
func expectError(
  _ code: RemoteprocError.Code, sourceLocation: SourceLocation = #_sourceLocation,
  _ body: () async throws -> Void
) async -> String? {
  do {
    try await body()
    Issue.record("expected \(code), got success", sourceLocation: sourceLocation)
    return nil
  } catch let error as RemoteprocError {
    #expect(error.code == code, "\(error.message)", sourceLocation: sourceLocation)
    return error.message
  } catch {
    Issue.record("expected a RemoteprocError, got \(error)", sourceLocation: sourceLocation)
    return nil
  }
}

/// A counter shared between a test and its firmware thread.
final class Counter: Sendable {
  private let value = Mutex(0)
  /// Adds one and returns the new value.
  func increment() -> Int { value.withLock { $0 += 1; return $0 } }
  var current: Int { value.withLock { $0 } }
}
