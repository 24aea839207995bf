import Firmware
import Foundation
import Remoteproc
import RemoteprocTesting
import SharedMemory
import Testing

/// A failure at each step of the boot leaves nothing behind: the remote offline with no
/// boot reference, no carveout, no firmware thread, every prepare undone by an unprepare,
/// every started subdevice stopped.
@Suite(.serialized) struct BootFailureTests {
  enum Step: String, CaseIterable, Sendable {
    case sanityCheck, prepare, resourceTable, allocation, loading, trace, driverCreation
    case subdevicePrepare, start, subdeviceStart
  }

  static func image(for step: Step) -> TestFirmwareImage {
    var image = TestFirmwareImage()
    image.entries = [ResourceTableBuilder.virtioDevice(id: 7, features: 1, ringSize: 16)]
    switch step {
    case .allocation: image.entries.append(ResourceTableBuilder.carveout("too-big", length: 0x800_0000))
    case .trace: image.entries.append(ResourceTableBuilder.trace("lost", deviceAddress: 0x7000_0000, length: 64))
    default: break
    }
    return image
  }

  @Test(arguments: Step.allCases)
  func failureAtEveryStepLeavesNothingBehind(step: Step) async throws {
    let drivers = RecordingDriverFactory()
    let h = try await Harness(image: Self.image(for: step), drivers: drivers, program: { $0.idleUntilStopped() })
    switch step {
    case .sanityCheck: h.platform.fail(.checkImage)
    case .prepare: h.platform.fail(.prepare)
    case .resourceTable:
      var bytes = Self.image(for: step).build()
      let location = try #require(try ELFImage(bytes: bytes).resourceTable())
      bytes[Int(location.section.fileOffset)] = 2  // version 2
      try Data(bytes).write(to: h.directory.appendingPathComponent("fw.elf"))
    case .loading:
      var image = Self.image(for: step)
      image.base = 0x6000_0000  // outside the platform's memory
      try h.add(image, as: "fw.elf")
    case .driverCreation: drivers.fail(.make)
    case .subdevicePrepare: drivers.fail(.prepare)
    case .start: h.platform.fail(.start)
    case .subdeviceStart: drivers.fail(.start)
    case .allocation, .trace: break
    }
    do {
      try await h.processor.boot()
      Issue.record("boot succeeded despite a failure at \(step)")
    } catch {
      #expect(!error.message.isEmpty)
    }
    #expect(await h.processor.state == .offline)
    #expect(await h.processor.powerReferences == 0)
    #expect(await h.processor.carveouts.isEmpty)
    #expect(await h.processor.subdevices.isEmpty)
    #expect(h.platform.unprepareCalls == h.platform.calls(.prepare) || step == .sanityCheck || step == .prepare)
    #expect(drivers.isBalanced, "\(drivers.log)")
    #expect(h.platform.calls(.stop) == (step == .subdeviceStart ? 1 : 0))
    #expect(await h.eventually { h.platform.liveThreads == 0 })
    // The failure is not sticky: fixed, the same processor boots.
    h.platform.succeed(.checkImage)
    h.platform.succeed(.prepare)
    h.platform.succeed(.start)
    drivers.succeed(.make)
    drivers.succeed(.prepare)
    drivers.succeed(.start)
    try h.add(TestFirmwareImage(), as: "fw.elf")
    try await h.processor.boot()
    #expect(await h.processor.state == .running)
    try await h.processor.shutdown()
    await h.tearDown()
  }
}

@Suite(.serialized) struct AttachTests {
  @Test func detachLeavesItRunningAndAttachAdoptsItAgain() async throws {
    var image = TestFirmwareImage()
    image.entries = [ResourceTableBuilder.carveout("heap", length: 0x1000)]
    let h = try await Harness(image: image, drivers: RecordingDriverFactory(), program: { $0.idleUntilStopped() })
    try await h.processor.boot()
    let tableRegion = try #require(h.region(image.dataAddress, image.tableBytes.count))
    #expect(try tableRegion.bytes(at: 0, count: tableRegion.count) != image.tableBytes)  // allocations written
    try await h.processor.write(.state, "detach")
    #expect(await h.processor.state == .detached)
    #expect(h.platform.calls(.detach) == 1 && h.platform.calls(.stop) == 0)
    #expect(h.platform.currentRun != nil)  // still running
    #expect(try tableRegion.bytes(at: 0, count: tableRegion.count) == image.tableBytes)  // restored
    // Attach: the platform says where the live table is.
    h.platform.pretendRunning(tableAddress: image.dataAddress, tableLength: image.tableBytes.count)
    try await h.processor.write(.state, "start")
    #expect(await h.processor.state == .attached)
    #expect(await h.processor.read(.firmware) == "unknown\n")
    #expect(h.platform.calls(.attach) == 1)
    #expect(await h.processor.traceNames == ["trace0"])
    try await h.processor.write(.state, "detach")
    #expect(await h.processor.state == .detached)
    await h.platform.terminateFirmware()
    await h.tearDown()
  }

  @Test func aRemoteRunningAtRegistrationIsDetachedUntilBooted() async throws {
    let platform = try TestPlatform()
    let image = TestFirmwareImage()
    // Someone else loaded the firmware: put its table in memory.
    let table = try #require(platform.memory.translate(deviceAddress: image.dataAddress, length: image.tableBytes.count))
    try table.write(image.tableBytes, at: 0)
    platform.pretendRunning(tableAddress: image.dataAddress, tableLength: image.tableBytes.count)
    let h = try await Harness(image: image, platform: platform)
    #expect(await h.processor.state == .detached)
    try await h.processor.boot()
    #expect(await h.processor.state == .attached)
    try await h.processor.shutdown()  // stopping an attached remote powers it off
    #expect(await h.processor.state == .offline)
    #expect(h.platform.calls(.stop) == 1)
    await h.tearDown()
  }

  @Test func detachIsRefusedWhenNotRunning() async throws {
    let h = try await Harness()
    let error = await expectError(.invalidState) { try await h.processor.write(.state, "detach") }
    #expect(error == "remoteproc0 is offline; only a running or attached remote can be detached")
    await h.tearDown()
  }
}
