import Firmware
import Foundation
import Remoteproc
import RemoteprocTesting
import SharedMemory
import Testing

@Suite(.serialized) struct ResourceHandlingTests {
  static func table(_ h: Harness) throws -> ResourceTable {
    let region = try #require(h.region(h.image.dataAddress, h.image.tableBytes.count))
    return try ResourceTable(bytes: region.bytes(at: 0, count: region.count), byteOrder: .little)
  }

  @Test func carveoutsAreAllocatedAndWrittenBackIntoTheLoadedTable() async throws {
    var image = TestFirmwareImage()
    image.entries = [
      ResourceTableBuilder.carveout("any", length: 0x1800),
      ResourceTableBuilder.carveout("fixed", deviceAddress: 0x1010_0000, length: 0x1000),
    ]
    let h = try await Harness(image: image)
    try await h.processor.boot()
    let table = try Self.table(h)
    let carveouts = table.carveouts.map(\.carveout)
    #expect(carveouts[0].deviceAddress == 0x1000_2000 && carveouts[0].physicalAddress == 0x8000_2000)
    #expect(carveouts[0].length == 0x1800)
    #expect(carveouts[1].deviceAddress == 0x1010_0000 && carveouts[1].physicalAddress == 0x8010_0000)
    #expect(await h.processor.carveoutText.contains("\tName: fixed\n"))
    #expect(await h.processor.carveoutText.contains("\tDevice address: 0x10100000\n\tLength: 0x1000 Bytes\n"))
    #expect(await h.processor.resourceTableText.contains("  Device Address 0x10002000\n  Physical Address 0x80002000\n"))
    try await h.processor.shutdown()
    await h.tearDown()
  }

  @Test func aPlatformCarveoutWithTheSameNameIsReused() async throws {
    let platform = try TestPlatform(extraWindows: [("sram", 0x2000_0000, 0x8000, false)])
    var image = TestFirmwareImage()
    image.entries = [ResourceTableBuilder.carveout("sram", length: 0x4000)]
    let h = try await Harness(image: image, platform: platform)
    try await h.processor.boot()
    let carveout = try #require(try Self.table(h).carveouts.first?.carveout)
    #expect(carveout.deviceAddress == 0x2000_0000)
    try await h.processor.shutdown()
    await h.tearDown()
  }

  @Test(arguments: [
    (ResourceTableBuilder.carveout("huge", length: 0x100_0000), "carveout huge: no free 0x1000000-byte range"),
    (ResourceTableBuilder.carveout("nowhere", deviceAddress: 0x4000_0000, length: 0x1000), "carveout nowhere: no platform memory covers da 0x40000000"),
    (ResourceTableBuilder.carveout("oncode", deviceAddress: 0x1000_0000, length: 0x1000), "carveout oncode: da 0x10000000 length 0x1000 overlaps segment 0"),
  ])
  func impossibleCarveoutsFailTheBootCleanly(entry: ResourceTableBuilder.Entry, message: String) async throws {
    var image = TestFirmwareImage()
    image.entries = [ResourceTableBuilder.carveout("first", length: 0x1000), entry]
    let h = try await Harness(image: image)
    let error = await expectError(.outOfMemory) { try await h.processor.boot() }
    #expect(error?.hasPrefix(message) == true, "\(error ?? "")")
    #expect(await h.processor.state == .offline && h.platform.calls(.start) == 0)
    #expect(await h.processor.carveouts.isEmpty)
    #expect(h.platform.unprepareCalls == h.platform.calls(.prepare))
    await h.tearDown()
  }

  @Test func vringsGetMemoryAndNotifyIDsInTableOrder() async throws {
    var image = TestFirmwareImage()
    image.entries = [
      ResourceTableBuilder.virtioDevice(id: 7, features: 1, ringSize: 16, alignment: 4096),
      ResourceTableBuilder.virtioDevice(id: 11, features: 0, ringSize: 8, alignment: 16),
    ]
    let drivers = RecordingDriverFactory(bufferPoolSize: 0x3000)
    let h = try await Harness(image: image, drivers: drivers)
    try await h.processor.boot()
    let devices = try Self.table(h).virtioDevices.map(\.device)
    #expect(devices[0].vrings.map(\.notifyID) == [0, 1])
    #expect(devices[1].vrings.map(\.notifyID) == [2, 3])
    let names = await h.processor.carveouts.map(\.name)
    #expect(names == ["vdev0vring0", "vdev0vring1", "vdev0buffer", "vdev1vring0", "vdev1vring1", "vdev1buffer"])
    // Each vring is PAGE_ALIGN(vring_size(num, align)) and its address is in the table.
    let carveouts = await h.processor.carveouts
    #expect(carveouts[0].length == 8192 && carveouts[3].length == 4096)
    #expect(UInt64(devices[0].vrings[1].deviceAddress) == carveouts[1].deviceAddress)
    #expect(drivers.contexts.map(\.vrings.count) == [2, 2])
    #expect(drivers.contexts[1].bufferPool?.length == 0x3000)
    #expect(drivers.log == ["make 0", "make 1", "prepare 0", "prepare 1", "start 0", "start 1"])
    try await h.processor.shutdown()
    #expect(drivers.log.suffix(4) == ["stop 1 crashed=false", "stop 0 crashed=false", "unprepare 1", "unprepare 0"])
    await h.tearDown()
  }

  @Test func legacyZeroVringAddressesAreAllocated() async throws {
    var image = TestFirmwareImage()
    image.entries = [ResourceTableBuilder.virtioDevice(id: 11, features: 0, ringSize: 8, alignment: 16, ringAddress: 0)]
    var options = RemoteProcessor.Options()
    options.legacyZeroVringAddress = true
    let h = try await Harness(image: image, options: options, drivers: RecordingDriverFactory())
    try await h.processor.boot()
    let rings = try #require(try Self.table(h).virtioDevices.first?.device.vrings)
    #expect(rings.allSatisfy { $0.deviceAddress >= UInt32(TestPlatform.ramBase) })
    try await h.processor.shutdown()
    await h.tearDown()
    // Without the option, 0 is a fixed address the platform does not map.
    let modern = try await Harness(image: image, drivers: RecordingDriverFactory())
    let error = await expectError(.outOfMemory) { try await modern.processor.boot() }
    #expect(error?.hasPrefix("carveout vdev0vring0: no platform memory covers da 0x0") == true)
    await modern.tearDown()
  }

  @Test func devmemMustBeMappedByThePlatform() async throws {
    var image = TestFirmwareImage()
    image.entries = [.deviceMemory(MemoryResource(deviceAddress: 0x5000_0000, length: 0x1000, name: "uart"))]
    let h = try await Harness(image: image)
    let error = await expectError(.addressNotMapped) { try await h.processor.boot() }
    #expect(error == "fw.elf: devmem uart asks for da 0x50000000 length 0x1000, which platform test does not map")
    await h.tearDown()
    let mapped = try await Harness(image: image, platform: try TestPlatform(extraWindows: [("uart", 0x5000_0000, 0x1000, false)]))
    try await mapped.processor.boot()
    try await mapped.processor.shutdown()
    await mapped.tearDown()
  }
}
