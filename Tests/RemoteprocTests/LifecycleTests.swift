import Firmware
import Foundation
import Remoteproc
import RemoteprocTesting
import SharedMemory
import Testing

@Suite(.serialized) struct LifecycleTests {
  @Test func bootLoadsStartsAndShutdownStops() async throws {
    let h = try await Harness(program: { $0.idleUntilStopped() })
    #expect(await h.processor.state == .offline)
    #expect(await h.processor.read(.state) == "offline\n")
    try await h.processor.boot()
    #expect(await h.processor.state == .running)
    #expect(h.platform.calls(.start) == 1)
    // The code segment landed at its device address and the table in remote memory.
    let code = try #require(h.region(h.image.codeAddress, 4))
    #expect(try code.load(UInt32.self, at: 0, order: .little) == h.image.marker)
    let table = try #require(h.region(h.image.dataAddress, h.image.tableBytes.count))
    #expect(try table.bytes(at: 0, count: 4) == [1, 0, 0, 0])
    try await h.processor.shutdown()
    #expect(await h.processor.state == .offline)
    #expect(h.platform.calls(.stop) == 1)
    #expect(h.platform.unprepareCalls == h.platform.calls(.prepare))
    #expect(await h.processor.carveouts.isEmpty)
    await h.tearDown()
  }

  @Test func bootAndShutdownAreReferenceCounted() async throws {
    let h = try await Harness()
    try await h.processor.boot()
    try await h.processor.boot()
    #expect(await h.processor.powerReferences == 2)
    try await h.processor.shutdown()
    #expect(await h.processor.state == .running)
    try await h.processor.shutdown()
    #expect(await h.processor.state == .offline)
    #expect(h.platform.calls(.start) == 1 && h.platform.calls(.stop) == 1)
    let message = await expectError(.invalidState) { try await h.processor.shutdown() }
    #expect(message == "remoteproc0 is offline, not running: nothing to stop")
    await h.tearDown()
  }

  @Test func stateAttributeStartsAndStops() async throws {
    let h = try await Harness()
    try await h.processor.write(.state, "start\n")
    #expect(await h.processor.read(.state) == "running\n")
    await expectError(.busy) { try await h.processor.write(.state, "start") }
    #expect(await h.processor.powerReferences == 1)
    try await h.processor.write(.state, "stop\n")
    #expect(await h.processor.read(.state) == "offline\n")
    await h.tearDown()
  }

  @Test func firmwareChangesOnlyWhileOffline() async throws {
    let h = try await Harness()
    #expect(await h.processor.read(.firmware) == "fw.elf\n")
    try await h.processor.write(.firmware, "other.elf\n")
    #expect(await h.processor.read(.firmware) == "other.elf\n")
    try await h.processor.write(.firmware, "fw.elf")
    try await h.processor.boot()
    let busy = await expectError(.busy) { try await h.processor.write(.firmware, "x.elf") }
    #expect(busy == "can't change firmware while remoteproc0 is running; write stop to state first")
    #expect(await h.processor.read(.firmware) == "fw.elf\n")
    try await h.processor.shutdown()
    await h.tearDown()
  }

  @Test(arguments: [
    (ProcessorAttribute.state, "begin", RemoteprocError.Code.invalidArgument),
    (.state, "", .invalidArgument), (.state, "START", .invalidArgument),
    (.recovery, "maybe", .invalidArgument), (.coredump, "yes", .invalidArgument),
    (.firmware, "", .invalidArgument), (.firmware, "\n", .invalidArgument),
    (.firmware, "../x", .invalidArgument), (.firmware, "/etc/passwd", .invalidArgument),
    (.name, "new-name", .readOnly),
  ])
  func badWordsAreRefused(attribute: ProcessorAttribute, word: String, code: RemoteprocError.Code) async throws {
    let h = try await Harness()
    let before = await ProcessorAttribute.allCases.asyncMap { await h.processor.read($0) }
    await expectError(code) { try await h.processor.write(attribute, word) }
    let after = await ProcessorAttribute.allCases.asyncMap { await h.processor.read($0) }
    #expect(before == after)
    await h.tearDown()
  }

  @Test func errorsCarryLinuxErrnos() {
    #expect(RemoteprocError(.busy, "").errno == 16)
    #expect(RemoteprocError(.invalidArgument, "").errno == 22)
    #expect(RemoteprocError(.notFound, "").errno == 2)
    #expect(RemoteprocError(.outOfMemory, "").errno == 12)
    #expect(RemoteprocError(.readOnly, "").errno == 13)
  }

  @Test func recoveryAndCoredumpWordsAreAccepted() async throws {
    let h = try await Harness()
    try await h.processor.write(.recovery, "disabled\n")
    #expect(await h.processor.read(.recovery) == "disabled\n")
    try await h.processor.write(.recovery, "enabled")
    #expect(await h.processor.read(.recovery) == "enabled\n")
    try await h.processor.write(.recovery, "recover")  // nothing crashed: no effect
    for mode in ["enabled", "inline", "disabled"] {
      try await h.processor.write(.coredump, mode + "\n")
      #expect(await h.processor.read(.coredump) == mode + "\n")
    }
    #expect(await h.processor.read(.name) == "test-core\n")
    await h.tearDown()
  }

  @Test func missingCorruptAndForeignFirmwareAreRefused() async throws {
    let h = try await Harness()
    try await h.processor.write(.firmware, "missing.elf")
    let missing = await expectError(.notFound) { try await h.processor.boot() }
    #expect(missing?.hasPrefix("firmware missing.elf not found (searched ") == true)
    try Data([0x7F, 0x45, 0x4C, 0x46, 1, 1, 1, 0, 0, 0]).write(to: h.directory.appendingPathComponent("corrupt.elf"))
    try await h.processor.write(.firmware, "corrupt.elf")
    let corrupt = await expectError(.malformedFirmware) { try await h.processor.boot() }
    #expect(corrupt == "corrupt.elf: image is too small: 0xa bytes, an ELF32 header needs 0x34")
    var mips = TestFirmwareImage()
    mips.machine = .mips
    try h.add(mips, as: "mips.elf")
    try await h.processor.write(.firmware, "mips.elf")
    let foreign = await expectError(.malformedFirmware) { try await h.processor.boot() }
    #expect(foreign == "test platform runs ARM images, not MIPS")
    #expect(await h.processor.state == .offline)
    #expect(await h.processor.powerReferences == 0)
    await h.tearDown()
  }

  @Test func firmwareOutsideTheDirectoryIsRefused() async throws {
    let h = try await Harness()
    let outside = h.directory.deletingLastPathComponent().appendingPathComponent("outside-\(UUID()).elf")
    try Data(h.image.build()).write(to: outside)
    defer { try? FileManager.default.removeItem(at: outside) }
    try FileManager.default.createSymbolicLink(
      at: h.directory.appendingPathComponent("link.elf"), withDestinationURL: outside)
    try await h.processor.write(.firmware, "link.elf")
    let message = await expectError(.invalidArgument) { try await h.processor.boot() }
    #expect(message?.contains("outside the firmware directory") == true)
    await h.tearDown()
  }

  @Test func traceBuffersAreReadableWhileRunning() async throws {
    let image = TestFirmwareImage()
    let h = try await Harness(image: image, program: { firmware in
      firmware.trace("booted\n", bufferAt: image.traceAddress, length: Int(image.traceLength))
      firmware.trace("hello from the remote\n", bufferAt: image.traceAddress, length: Int(image.traceLength))
      firmware.idleUntilStopped()
    })
    try await h.processor.boot()
    #expect(await h.processor.traceNames == ["trace0"])
    #expect(await h.eventually { (try? await h.processor.traceText(0)) == "booted\nhello from the remote\n" })
    await expectError(.notFound) { _ = try await h.processor.traceText(1) }
    try await h.processor.shutdown()
    await expectError(.notFound) { _ = try await h.processor.traceText(0) }
    await h.tearDown()
  }

  @Test func firmwareWithoutATableBoots() async throws {
    var image = TestFirmwareImage()
    image.withoutTable = true
    let h = try await Harness(image: image)
    try await h.processor.boot()
    #expect(await h.processor.resourceTableText == "No resource table found\n")
    try await h.processor.shutdown()
    await h.tearDown()
  }

  @Test func eventsReportStateChanges() async throws {
    let h = try await Harness()
    let stream = h.registry.events.subscribe()
    try await h.processor.boot()
    try await h.processor.shutdown()
    var seen: [RemoteprocEvent] = []
    for await event in stream {
      seen.append(event)
      if seen.count == 2 { break }
    }
    #expect(seen == [
      .stateChanged(processor: "remoteproc0", from: .offline, to: .running),
      .stateChanged(processor: "remoteproc0", from: .running, to: .offline),
    ])
    await h.tearDown()
  }
}

extension Sequence where Element: Sendable {
  func asyncMap<T>(_ transform: (Element) async -> T) async -> [T] {
    var result: [T] = []
    for element in self { result.append(await transform(element)) }
    return result
  }
}

@Suite struct RegistryTests {
  @Test func processorsAreNamedInRegistrationOrderAndAutoBoot() async throws {
    let registry = RemoteprocRegistry()
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("rproc-reg-\(UUID())")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    try TestFirmwareImage().write(to: directory, name: "fw.elf")
    let store = FirmwareStore(directories: [directory.path])
    var auto = RemoteProcessor.Options()
    auto.autoBoot = true
    let first = await registry.add(name: "a", firmware: "fw.elf", platform: try TestPlatform(), firmwareStore: store)
    let second = await registry.add(
      name: "b", firmware: "fw.elf", platform: try TestPlatform(), firmwareStore: store, options: auto)
    let third = await registry.add(
      name: "c", firmware: "missing.elf", platform: try TestPlatform(), firmwareStore: store, options: auto)
    #expect(first.processor.deviceName == "remoteproc0" && second.processor.deviceName == "remoteproc1")
    #expect(await first.processor.state == .offline)
    #expect(await second.processor.state == .running && second.autoBootError == nil)
    #expect(await third.processor.state == .offline)
    #expect(third.autoBootError?.code == .notFound)
    #expect(registry.processor(named: "remoteproc2") === third.processor)
    #expect(registry.all.count == 3)
    await registry.remove(second.processor)
    #expect(await second.processor.state == .offline)
    #expect(registry.all.map(\.deviceName) == ["remoteproc0", "remoteproc2"])
  }
}
