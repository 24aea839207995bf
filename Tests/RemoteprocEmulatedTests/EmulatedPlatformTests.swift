import Firmware
import Foundation
import Remoteproc
import RemoteprocEmulated
import Testing

func eventually(
  _ what: String, seconds: Double = 20, sourceLocation: SourceLocation = #_sourceLocation,
  _ condition: () async throws -> Bool
) async rethrows {
  let deadline = Date().addingTimeInterval(seconds)
  while Date() < deadline {
    if try await condition() { return }
    try? await Task.sleep(for: .milliseconds(1))
  }
  Issue.record("timed out after \(seconds) s waiting for \(what)", sourceLocation: sourceLocation)
}

/// The emulated platform under the real remoteproc core (without virtio drivers): the core
/// loads crashy, reads its trace, and recovers it from real guest crashes.
@Suite(.enabled(if: FirmwareImages.canRun), .serialized)
struct EmulatedPlatformTests {
  static func processor(
    _ firmware: String, on platform: EmulatedPlatform
  ) async throws -> RemoteProcessor {
    try FirmwareImages.requireImages()
    let registry = RemoteprocRegistry()
    let store = FirmwareStore(directories: [FirmwareImages.buildDirectory.path])
    return await registry.add(
      name: platform.core.machine.name, firmware: firmware, platform: platform, firmwareStore: store
    ).processor
  }

  @Test(arguments: EmulatedMachine.all)
  func theCoreBootsTracesAndRecoversACrashedGuest(machine: EmulatedMachine) async throws {
    let platform = try EmulatedPlatform(machine: machine, options: .init(watchdogTimeout: nil))
    let processor = try await Self.processor("crashy-\(machine.name).elf", on: platform)
    try await processor.boot()
    #expect(await processor.state == .running)
    let hello = "crashy on \(machine.name == "mips32be" ? "mips32" : machine.name): ready"
    try await eventually("the trace") { try await processor.traceText(0).contains(hello) }
    for round in 1...5 {
      // Kicking notify id 30 makes crashy store to unmapped memory. The trace of the previous
      // run may still say "ready" before the restarted firmware listens, so a kick can land
      // too early: ring again until the crash is counted.
      await eventually("crash \(round)") {
        if await processor.crashCount >= round { return true }
        platform.kick(notifyID: 30)
        try? await Task.sleep(for: .milliseconds(20))
        return await processor.crashCount >= round
      }
      await eventually("recovery \(round)") {
        let crashes = await processor.crashCount
        let state = await processor.state
        return crashes == round && state == .running
      }
      try await eventually("the trace after recovery \(round)") {
        try await processor.traceText(0).contains(hello)
      }
    }
    try await processor.shutdown()
    #expect(await processor.state == .offline)
    #expect(platform.core.state == .offline)
  }

  @Test func firmwareForAnotherMachineIsRefusedByTheCore() async throws {
    let platform = try EmulatedPlatform(machine: .mips32)
    let processor = try await Self.processor("crashy-rv32.elf", on: platform)
    await #expect(throws: RemoteprocError.self) { try await processor.boot() }
    #expect(await processor.state == .offline)
    #expect(platform.core.state == .offline)
  }
}
