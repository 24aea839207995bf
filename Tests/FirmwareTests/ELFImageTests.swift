import Firmware
import SharedMemory
import Testing

@Suite struct ELFImageTests {
  @Test(arguments: Fixtures.all.map(\.name))
  func fixtureHeadersAreRead(name: String) throws {
    let spec = try #require(Fixtures.all.first { $0.name == name })
    let image = try ELFImage(bytes: Fixtures.bytes(name))
    #expect(image.elfClass.bits == spec.bits)
    #expect(image.byteOrder == (spec.bigEndian ? .big : .little))
    #expect(image.machine.rawValue == spec.machine)
    #expect(image.fileType == .executable)
    let start = try image.symbol(named: "_start")
    #expect(image.entryPoint == start.value)
    #expect(image.loadableSegments.count >= 2)
    #expect(image.loadableSegments.allSatisfy { $0.physicalAddress >= spec.base })
    // bss: the last segment occupies more memory than file bytes.
    let data = try #require(image.loadableSegments.last)
    #expect(data.memorySize > data.fileSize)
  }

  @Test(arguments: Fixtures.all.map(\.name))
  func fixtureResourceTablesAreRead(name: String) throws {
    let image = try ELFImage(bytes: Fixtures.bytes(name))
    let location = try #require(try image.resourceTable(required: true))
    let table = location.table
    #expect(table.entries.count == 3)
    #expect(table.warnings.isEmpty)
    let symbol = try image.symbol(named: "resource_table")
    #expect(location.section.address == symbol.value)
    #expect(location.loadedDeviceAddress == symbol.value)
    let carveout = try #require(table.carveouts.first?.carveout)
    #expect(carveout == MemoryResource(deviceAddress: ResourceTable.anyAddress, physicalAddress: 0, length: 0x10000, flags: 0, name: "heap"))
    let trace = try #require(table.traces.first?.trace)
    #expect(trace.name == "trace0" && trace.length == 0x400)
    if image.elfClass == .elf32 {
      #expect(UInt64(trace.deviceAddress) == (try image.symbol(named: "trace_buffer")).value)
    }
    let vdev = try #require(table.virtioDevices.first?.device)
    #expect(vdev.id == 7 && vdev.deviceFeatures == 1 && vdev.configLength == 0)
    #expect(vdev.vrings.count == 2)
    #expect(vdev.vrings.allSatisfy { $0.count == 16 && $0.alignment == 4096 && $0.deviceAddress == ResourceTable.anyAddress })
  }

  @Test(arguments: Fixtures.all.map(\.name))
  func segmentsLoadAtTheirPhysicalAddressesWithZeroedTails(name: String) throws {
    let spec = try #require(Fixtures.all.first { $0.name == name })
    let bytes = try Fixtures.bytes(name)
    let image = try ELFImage(bytes: bytes)
    let memory = try SharedMapping.anonymous(count: 1 << 20).region
    try memory.fill(0xAA, at: 0, count: memory.count)
    var requests: [(UInt64, Int)] = []
    try image.loadSegments { da, length in
      requests.append((da, length))
      return try? memory.slice(at: Int(da - spec.base), length: length)
    }
    #expect(requests.count == image.loadableSegments.count)
    for segment in image.loadableSegments {
      let at = Int(segment.physicalAddress - spec.base)
      let fileBytes = Array(bytes[Int(segment.fileOffset)..<Int(segment.fileOffset + segment.fileSize)])
      #expect(try memory.bytes(at: at, count: fileBytes.count) == fileBytes)
      let tail = Int(segment.memorySize - segment.fileSize)
      #expect(try memory.bytes(at: at + fileBytes.count, count: tail) == [UInt8](repeating: 0, count: tail))
    }
  }

  @Test func loadingFailsWithTheSegmentsAddressWhenNothingCoversIt() throws {
    let image = try ELFImage(bytes: Fixtures.bytes("mipsel"))
    let error = #expect(throws: FirmwareError.self) {
      try image.loadSegments { _, _ in nil }
    }
    #expect(error?.code == .addressNotMapped)
    #expect(error?.message == "segment 0: no memory covers da 0x80000000 length 0x40")
  }

  @Test func aTooShortTranslationIsRefused() throws {
    let image = try ELFImage(bytes: Fixtures.bytes("riscv32"))
    let small = try SharedMapping.anonymous(count: 4096).region
    #expect(throws: FirmwareError.self) {
      try image.loadSegments { _, _ in try? small.slice(at: 0, length: 4) }
    }
  }

  @Test func imageWithoutResourceTableIsAcceptedOnlyWhenAllowed() throws {
    var writer = ELFWriter(elfClass: .elf32, byteOrder: .little, machine: .arm)
    writer.segments = [.init(physicalAddress: 0x1000, data: [1, 2, 3, 4])]
    let image = try ELFImage(bytes: writer.build())
    #expect(try image.resourceTable(required: false) == nil)
    let error = #expect(throws: FirmwareError.self) { try image.resourceTable(required: true) }
    #expect(error?.code == .notFound)
  }

  @Test func sectionsAndSymbolsAreFoundByName() throws {
    let image = try ELFImage(bytes: Fixtures.bytes("mips"))
    #expect(image.section(named: ".text") != nil)
    #expect(image.section(named: ".nope") == nil)
    #expect(throws: FirmwareError.self) { try image.symbol(named: "no_such_symbol") }
    let symbols = try image.symbols()
    #expect(symbols.contains { $0.name == "trace_buffer" && $0.size == 0x400 })
  }
}
