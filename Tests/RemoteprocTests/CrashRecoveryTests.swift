import Firmware
import Foundation
import Remoteproc
import RemoteprocTesting
import SharedMemory
import Testing

@Suite(.serialized) struct CrashRecoveryTests {
  /// A program that crashes with `type` on its `crashOnRun`-th start and otherwise idles.
  static func crashing(_ type: CrashType, onRun crashOnRun: Int, runs: Counter) -> TestFirmwareProgram {
    { firmware in
      let run = runs.increment()
      if run == crashOnRun {
        firmware.crash(type, details: "run \(run) faulted at pc 0x10000040")
        firmware.crash(.watchdog, details: "a second report of the same crash")
      }
      firmware.idleUntilStopped()
    }
  }

  @Test func crashWhileRunningRecovers() async throws {
    let runs = Counter()
    let h = try await Harness(program: Self.crashing(.mmuFault, onRun: 1, runs: runs))
    let stream = h.registry.events.subscribe()
    try await h.processor.boot()
    #expect(await h.eventually { await h.processor.crashCount == 1 && runs.current == 2 })
    #expect(await h.eventually { await h.processor.state == .running })
    #expect(await h.eventually { await h.processor.ignoredCrashReports == 1 })  // the second report
    #expect(h.platform.calls(.start) == 2 && h.platform.calls(.stop) == 1)
    var seen: [RemoteprocEvent] = []
    for await event in stream {
      seen.append(event)
      if case .recovered = event { break }
    }
    #expect(seen == [
      .stateChanged(processor: "remoteproc0", from: .offline, to: .running),
      .stateChanged(processor: "remoteproc0", from: .running, to: .crashed),
      .crashed(processor: "remoteproc0", type: .mmuFault, details: "run 1 faulted at pc 0x10000040"),
      .stateChanged(processor: "remoteproc0", from: .crashed, to: .offline),
      .stateChanged(processor: "remoteproc0", from: .offline, to: .running),
      .recovered(processor: "remoteproc0"),
    ])
    try await h.processor.shutdown()
    #expect(await h.processor.state == .offline)
    await h.tearDown()
  }

  @Test func crashWithRecoveryDisabledStaysCrashedAndCanBeStopped() async throws {
    let runs = Counter()
    var options = RemoteProcessor.Options()
    options.recoveryDisabled = true
    let h = try await Harness(options: options, program: Self.crashing(.watchdog, onRun: 1, runs: runs))
    try await h.processor.boot()
    #expect(await h.eventually { await h.processor.state == .crashed })
    #expect(await h.processor.read(.state) == "crashed\n")
    await expectError(.busy) { try await h.processor.boot() }
    await expectError(.busy) { try await h.processor.write(.coredump, "enabled") }
    await expectError(.busy) { try await h.processor.write(.firmware, "other.elf") }
    try await h.processor.write(.state, "stop")
    #expect(await h.processor.state == .offline)
    #expect(await h.processor.powerReferences == 0)
    #expect(h.platform.unprepareCalls == h.platform.calls(.prepare))
    await h.tearDown()
  }

  @Test func recoverWordRestartsACrashedRemote() async throws {
    let runs = Counter()
    var options = RemoteProcessor.Options()
    options.recoveryDisabled = true
    let h = try await Harness(options: options, program: Self.crashing(.fatalError, onRun: 1, runs: runs))
    try await h.processor.boot()
    #expect(await h.eventually { await h.processor.state == .crashed })
    try await h.processor.write(.recovery, "recover\n")
    #expect(await h.processor.state == .running)
    #expect(await h.processor.read(.recovery) == "disabled\n")
    try await h.processor.shutdown()
    await h.tearDown()
  }

  @Test func enablingRecoveryRecoversAPendingCrash() async throws {
    let runs = Counter()
    var options = RemoteProcessor.Options()
    options.recoveryDisabled = true
    let h = try await Harness(options: options, program: Self.crashing(.fatalError, onRun: 1, runs: runs))
    try await h.processor.boot()
    #expect(await h.eventually { await h.processor.state == .crashed })
    try await h.processor.write(.recovery, "enabled")
    #expect(await h.processor.state == .running)
    try await h.processor.shutdown()
    await h.tearDown()
  }

  @Test func crashDuringBootIsHandledAfterTheBootCompletes() async throws {
    let runs = Counter()
    // The firmware crashes as soon as it starts, before boot() has returned.
    let h = try await Harness(program: { firmware in
      if runs.increment() == 1 {
        firmware.crash(.fatalError, details: "early fault")
      }
      firmware.idleUntilStopped()
    })
    try await h.processor.boot()
    #expect(await h.eventually { await h.processor.crashCount == 1 && runs.current == 2 })
    #expect(await h.eventually { await h.processor.state == .running })
    try await h.processor.shutdown()
    await h.tearDown()
  }

  @Test func crashesWhileCrashedOrStoppedAreIgnored() async throws {
    var options = RemoteProcessor.Options()
    options.recoveryDisabled = true
    let h = try await Harness(options: options, program: { $0.idleUntilStopped() })
    try await h.processor.boot()
    let run = try #require(h.platform.currentRun)
    run.crash(.mmuFault, details: "first")
    #expect(await h.eventually { await h.processor.state == .crashed })
    run.crash(.fatalError, details: "second, while crashed")
    #expect(await h.eventually { await h.processor.ignoredCrashReports == 1 })
    #expect(await h.processor.crashCount == 1)
    try await h.processor.shutdown()
    run.crash(.watchdog, details: "third, after stop")
    #expect(await h.eventually { await h.processor.ignoredCrashReports == 2 })
    #expect(await h.processor.state == .offline)
    await h.tearDown()
  }

  @Test func recoveryAfterAFirmwareChangeRestartsTheNewFirmware() async throws {
    let runs = Counter()
    let h = try await Harness(program: Self.crashing(.mmuFault, onRun: 2, runs: runs))
    try await h.processor.boot()
    try await h.processor.shutdown()
    var second = TestFirmwareImage()
    second.marker = 0xC0DE_0002
    try h.add(second, as: "second.elf")
    try await h.processor.write(.firmware, "second.elf")
    try await h.processor.boot()  // run 2 crashes; recovery starts run 3 of second.elf
    #expect(await h.eventually { runs.current == 3 })
    #expect(await h.eventually { await h.processor.state == .running })
    let code = try #require(h.region(second.codeAddress, 4))
    #expect(try code.load(UInt32.self, at: 0, order: .little) == 0xC0DE_0002)
    #expect(await h.processor.read(.firmware) == "second.elf\n")
    try await h.processor.shutdown()
    await h.tearDown()
  }

  @Test func failedRecoveryLeavesTheRemoteOffline() async throws {
    let h = try await Harness(program: { $0.idleUntilStopped() })
    let stream = h.registry.events.subscribe()
    try await h.processor.boot()
    // Make the restart fail: the firmware file disappears before recovery reads it.
    try FileManager.default.removeItem(at: h.directory.appendingPathComponent("fw.elf"))
    let run = try #require(h.platform.currentRun)
    run.crash(.mmuFault, details: "fault")
    #expect(await h.eventually { await h.processor.crashCount == 1 })
    #expect(await h.eventually { await h.processor.state == .offline })
    #expect(await h.processor.powerReferences == 0)
    #expect(await h.processor.carveouts.isEmpty)
    var failure: String?
    for await event in stream {
      if case .recoveryFailed(_, let reason) = event {
        failure = reason
        break
      }
    }
    #expect(failure?.hasPrefix("firmware fw.elf not found") == true)
    #expect(h.platform.unprepareCalls == h.platform.calls(.prepare))
    await h.tearDown()
  }

  @Test func coredumpIsAnELFCoreOfTheRemoteMemory() async throws {
    let runs = Counter()
    var options = RemoteProcessor.Options()
    options.coredump = .enabled
    var image = TestFirmwareImage()
    image.entries = [ResourceTableBuilder.carveout("scratch", length: 0x2000)]
    let tableAddress = image.dataAddress, tableLength = image.tableBytes.count
    let h = try await Harness(image: image, options: options, program: { firmware in
      if runs.increment() == 1 {
        // Find the carveout the host allocated in the loaded table, leave a pattern, crash.
        if let tableRegion = firmware.translate(tableAddress, tableLength),
          let bytes = try? tableRegion.bytes(at: 0, count: tableRegion.count),
          let table = try? ResourceTable(bytes: bytes, byteOrder: .little),
          let scratch = table.carveouts.first?.carveout,
          let carveout = firmware.translate(UInt64(scratch.deviceAddress), 16)
        {
          try? carveout.write(Array("carveout-pattern".utf8), at: 0)
        }
        firmware.crash(.mmuFault, details: "bad store at 0xdead0000")
      }
      firmware.idleUntilStopped()
    })
    try await h.processor.boot()
    let scratch = try #require(await h.processor.carveouts.first { $0.name == "scratch" })
    #expect(scratch.deviceAddress == TestPlatform.ramBase + 0x2000)  // after code and data
    #expect(scratch.physicalAddress == 0x8000_2000)
    #expect(await h.eventually { await h.processor.coredumps.count == 1 })
    let dump = try #require(await h.processor.coredumps.first)
    #expect(dump.crash == .mmuFault && dump.number == 1)
    let core = try ELFImage(bytes: dump.bytes)
    #expect(core.fileType == .core && core.machine == .arm && core.elfClass == .elf32)
    let loads = core.loadableSegments
    let carveoutSegment = try #require(loads.first { $0.physicalAddress == scratch.deviceAddress })
    #expect(carveoutSegment.fileSize == 0x2000)
    let start = Int(carveoutSegment.fileOffset)
    #expect(Array(dump.bytes[start..<start + 16]) == Array("carveout-pattern".utf8))
    let codeSegment = try #require(loads.first { $0.physicalAddress == image.codeAddress })
    let codeStart = Int(codeSegment.fileOffset)
    #expect(Array(dump.bytes[codeStart..<codeStart + 4]) == [0x01, 0x00, 0xDE, 0xC0])
    #expect(core.programHeaders.contains { $0.type == 4 })  // the note
    // readelf, when installed, agrees it is a core with these segments.
    if FileManager.default.fileExists(atPath: "/usr/bin/readelf") {
      let path = h.directory.appendingPathComponent("core").path
      try Data(dump.bytes).write(to: URL(fileURLWithPath: path))
      let output = try Self.run("/usr/bin/readelf", ["-h", "-l", path])
      #expect(output.contains("CORE (Core file)"))
      #expect(output.contains("0x10002000"))
    }
    try await h.processor.shutdown()
    await h.tearDown()
  }

  static func run(_ tool: String, _ arguments: [String]) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: tool)
    process.arguments = arguments
    let pipe = Pipe()
    process.standardOutput = pipe
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return String(decoding: data, as: UTF8.self)
  }
}
