import Firmware
import SharedMemory
import Testing

@Suite struct ResourceTableTests {
  /// carveout at 0x1c, trace at 0x54, vdev (2 vrings, 12 bytes of config) at 0x84.
  static let entries: [ResourceTableBuilder.Entry] = [
    ResourceTableBuilder.carveout("heap", length: 0x8000),
    ResourceTableBuilder.trace("trace0", deviceAddress: 0x8000_1000, length: 0x400),
    ResourceTableBuilder.virtioDevice(id: 11, features: 0, ringSize: 16, alignment: 16, config: Array(1...12)),
  ]
  static let valid = ResourceTableBuilder(entries).build()

  static func le32(_ v: UInt32) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) } }
  static func patched(_ offset: Int, _ values: [UInt8], in bytes: [UInt8] = valid) -> [UInt8] {
    var copy = bytes
    copy.replaceSubrange(offset..<offset + values.count, with: values)
    return copy
  }

  func message(_ bytes: [UInt8], order: ByteOrder = .little) -> String? {
    do {
      _ = try ResourceTable(bytes: bytes, byteOrder: order)
      return nil
    } catch {
      #expect(error.code == .badResourceTable)
      return error.message
    }
  }

  @Test func aBuiltTableParsesBack() throws {
    let table = try ResourceTable(bytes: Self.valid, byteOrder: .little)
    #expect(table.entries.map(\.offset) == [0x1C, 0x54, 0x84])
    #expect(table.entries.map(\.typeName) == ["carveout", "trace", "vdev"])
    let vdev = try #require(table.virtioDevices.first?.device)
    #expect(vdev.config == Array(1...12) && vdev.configLength == 12 && vdev.vrings.count == 2)
    #expect(table.entries[2].byteCount == 4 + 24 + 40 + 12)
  }

  @Test func bigEndianTablesParse() throws {
    let bytes = ResourceTableBuilder(Self.entries, byteOrder: .big).build()
    let table = try ResourceTable(bytes: bytes, byteOrder: .big)
    #expect(table.traces.first?.trace.deviceAddress == 0x8000_1000)
    #expect(Array(bytes[0..<4]) == [0, 0, 0, 1])
    #expect(throws: FirmwareError.self) { try ResourceTable(bytes: bytes, byteOrder: .little) }
  }

  @Test func everyTruncatedPrefixThrows() {
    for length in 0..<Self.valid.count {
      #expect(throws: FirmwareError.self, "prefix \(length)") {
        try ResourceTable(bytes: Array(Self.valid.prefix(length)), byteOrder: .little)
      }
    }
  }

  @Test func headerProblemsAreNamed() {
    #expect(message(Array(Self.valid.prefix(12))) == "header-less resource table: 0xc bytes, the header needs 0x10")
    #expect(message(Self.patched(0, Self.le32(2))) == "unsupported resource table version 2 at 0x0, expected 1")
    #expect(message(Self.patched(12, Self.le32(5))) == "non-zero reserved bytes in the table header at 0x8: 0x0 0x5")
    #expect(message(Self.patched(4, Self.le32(60)))  // num too large for the section
      == "resource table incomplete: num 60 needs 0x100 bytes of header, table has 0xd4")
    #expect(message(Self.patched(4, Self.le32(0xFFFF_FFFF)))
      == "resource table incomplete: num 4294967295 needs 0x40000000c bytes of header, table has 0xd4")
  }

  @Test func entryOffsetsAreChecked() {
    #expect(message(Self.patched(16, Self.le32(0x18)))  // inside the header (ends at 0x1c)
      == "entry 0 at 0x18: offset lies inside the table header, which ends at 0x1c")
    #expect(message(Self.patched(16, Self.le32(4)))
      == "entry 0 at 0x4: offset lies inside the table header, which ends at 0x1c")
    #expect(message(Self.patched(20, Self.le32(0x1000)))  // past the end
      == "entry 1 at 0x1000: needs 4 bytes for its type, table has 0xd4")
    #expect(message(Self.patched(20, Self.le32(0xD2)))  // 2 bytes before the end
      == "entry 1 at 0xd2: needs 4 bytes for its type, table has 0xd4")
    #expect(message(Self.patched(20, Self.le32(0x30)))  // trace overlapping the carveout
      == "entries 0 [0x1c, 0x54) and 1 [0x30, 0x68) overlap")
    #expect(message(Self.patched(20, Self.le32(0x1C)))  // two entries at one offset
      == "entries 0 [0x1c, 0x54) and 1 [0x1c, 0x54) overlap")
  }

  @Test func entryContentsAreChecked() {
    let vdev = 0x84 + 4
    #expect(message(Self.patched(vdev + 21, [3]))  // three vrings
      == "entry 2 at 0x84 (vdev): too many vrings: 3, at most 2")
    #expect(message(Self.patched(vdev + 16, Self.le32(13)))  // config_len one past the end
      == "entry 2 at 0x84 (vdev) is truncated: 24 + 20 × 2 vrings + config_len 0xd = 0x4d bytes, 0x4c remain in the table")
    #expect(message(Self.patched(vdev + 16, Self.le32(0xFFFF_FFFF)))
      == "entry 2 at 0x84 (vdev) is truncated: 24 + 20 × 2 vrings + config_len 0xffffffff = 0x10000003f bytes, 0x4c remain in the table")
    #expect(message(Self.patched(vdev + 22, [0, 7])) == "entry 2 at 0x84 (vdev): non-zero reserved bytes 0x0 0x7")
    #expect(message(Self.patched(vdev + 24 + 8, Self.le32(24))) == "entry 2 at 0x84 (vdev) vring 0: num 24 is not a power of two in 1...32768")
    #expect(message(Self.patched(vdev + 44 + 8, Self.le32(0))) == "entry 2 at 0x84 (vdev) vring 1: num 0 is not a power of two in 1...32768")
    #expect(message(Self.patched(vdev + 24 + 4, Self.le32(12))) == "entry 2 at 0x84 (vdev) vring 0: align 12 is not a power of two")
    #expect(message(Self.patched(0x1C + 4 + 20, [UInt8](repeating: 0x41, count: 32)))  // name without NUL
      == "entry 0 at 0x1c (carveout): name at 0x34 is not NUL-terminated within 32 bytes")
    #expect(message(Self.patched(0x54 + 4 + 12, [UInt8](repeating: 0x41, count: 32)))
      == "entry 1 at 0x54 (trace): name at 0x64 is not NUL-terminated within 32 bytes")
    #expect(message(Self.patched(0x1C + 4 + 16, Self.le32(1))) == "entry 0 at 0x1c (carveout): non-zero reserved field 0x1")
    #expect(message(Self.patched(0x54 + 4 + 8, Self.le32(9))) == "entry 1 at 0x54 (trace): non-zero reserved field 0x9")
    // A trace whose payload runs past the end of the table.
    let short = ResourceTableBuilder([ResourceTableBuilder.trace("t", deviceAddress: 0, length: 4)]).build()
    #expect(message(Array(short.prefix(short.count - 4)))
      == "entry 0 at 0x14 (trace) is truncated: needs 0x2c bytes, 0x28 remain in the table")
  }

  @Test func unknownAndVendorTypesAreSkippedWithWarnings() throws {
    let bytes = ResourceTableBuilder([
      .raw(type: 7, payload: [1, 2, 3, 4]),
      .raw(type: 200, payload: [9, 9, 9, 9]),
    ]).build()
    let table = try ResourceTable(bytes: bytes, byteOrder: .little)
    #expect(table.warnings == [
      "entry 0 at 0x18: unsupported resource type 7, skipped",
      "entry 1 at 0x20: vendor resource type 200 not handled, skipped",
    ])
    #expect(table.entries.map(\.typeNumber) == [7, 200])
  }

  @Test func vendorHandlerSeesItsEntriesAndCanRefuseThem() throws {
    let bytes = ResourceTableBuilder([.raw(type: 300, payload: [0xAB, 0xCD, 0, 0])]).build()
    let table = try ResourceTable(bytes: bytes, byteOrder: .little) { type, payload in
      #expect(type == 300)
      #expect(Array(payload) == [0xAB, 0xCD, 0, 0])
      return .handled(length: 4, summary: "my vendor thing")
    }
    guard case .vendor(let vendor) = table.entries[0].kind else { Issue.record("not vendor"); return }
    #expect(vendor.payloadLength == 4 && vendor.summary == "my vendor thing")
    #expect(table.warnings.isEmpty)
    let refused = #expect(throws: FirmwareError.self) {
      try ResourceTable(bytes: bytes, byteOrder: .little) { (_, _) throws(FirmwareError) in
        throw FirmwareError(.badResourceTable, "vendor 300: unsupported revision")
      }
    }
    #expect(refused?.message == "vendor 300: unsupported revision")
    let greedy = #expect(throws: FirmwareError.self) {
      try ResourceTable(bytes: bytes, byteOrder: .little) { _, _ in .handled(length: 5, summary: "") }
    }
    #expect(greedy?.message == "entry 0 at 0x14 (vendor 300): handler claimed 0x5 bytes, 0x4 remain")
  }

  @Test func writeBackLandsAtTheLinuxOffsets() throws {
    let table = try ResourceTable(bytes: Self.valid, byteOrder: .little)
    let memory = try SharedMapping.anonymous(count: 4096).region
    try memory.write(Self.valid, at: 0)
    let loaded = try LoadedResourceTable(table: table, region: try memory.slice(at: 0, length: Self.valid.count))
    let carveout = table.entries[0], vdev = table.entries[2]
    try loaded.setCarveout(carveout, deviceAddress: 0x8010_0000, physicalAddress: 0x10_0000, length: 0x8000)
    try loaded.setVring(vdev, ring: 1, deviceAddress: 0x8020_0000, physicalAddress: 0x20_0000, notifyID: 1)
    try loaded.setVirtioNotifyID(vdev, 2)
    try loaded.setGuestFeatures(vdev, 0x2000_0001)
    try loaded.setVirtioStatus(vdev, 7)
    #expect(try memory.load(UInt32.self, at: 0x1C + 4, order: .little) == 0x8010_0000)  // da
    #expect(try memory.load(UInt32.self, at: 0x1C + 8, order: .little) == 0x10_0000)  // pa
    let ring1 = 0x84 + 4 + 24 + 20
    #expect(try memory.load(UInt32.self, at: ring1, order: .little) == 0x8020_0000)
    #expect(try memory.load(UInt32.self, at: ring1 + 12, order: .little) == 1)
    #expect(try memory.load(UInt32.self, at: ring1 + 16, order: .little) == 0x20_0000)
    #expect(try memory.load(UInt32.self, at: 0x88 + 4, order: .little) == 2)
    #expect(try memory.load(UInt32.self, at: 0x88 + 12, order: .little) == 0x2000_0001)
    #expect(try memory.loadByte(at: 0x88 + 20) == 7)
    #expect(try loaded.virtioStatus(vdev) == 7)
    let now = try loaded.reparse()
    #expect(now.virtioDevices.first?.device.vrings[1].deviceAddress == 0x8020_0000)
    try loaded.restoreOriginal()
    #expect(try memory.bytes(at: 0, count: Self.valid.count) == Self.valid)
    // Entries of another kind or another table are refused.
    #expect(throws: FirmwareError.self) { try loaded.setVirtioStatus(carveout, 1) }
    #expect(throws: FirmwareError.self) { try loaded.setVring(vdev, ring: 2, deviceAddress: 0, physicalAddress: 0, notifyID: 0) }
    #expect(throws: FirmwareError.self) {
      try LoadedResourceTable(table: table, region: try memory.slice(at: 0, length: 16))
    }
  }

  @Test func textFollowsLinuxDebugfs() throws {
    let table = try ResourceTable(bytes: ResourceTableBuilder([
      ResourceTableBuilder.carveout("heap", deviceAddress: 0x8010_0000, length: 0x8000),
      ResourceTableBuilder.trace("trace0", deviceAddress: 0x8000_1000, length: 0x400),
      ResourceTableBuilder.virtioDevice(id: 7, features: 1, rings: 1, ringSize: 16, alignment: 4096),
      .raw(type: 9, payload: []),
    ]).build(), byteOrder: .little)
    #expect(table.linuxDebugfsText == """
      Entry 0 is of type carveout
        Device Address 0x80100000
        Physical Address 0x0
        Length 0x8000 Bytes
        Flags 0x0
        Reserved (should be zero) [0]
        Name heap

      Entry 1 is of type trace
        Device Address 0x80001000
        Length 0x400 Bytes
        Reserved (should be zero) [0]
        Name trace0

      Entry 2 is of type vdev
        ID 7
        Notify ID 0
        Device features 0x1
        Guest features 0x0
        Config length 0x0
        Status 0x0
        Number of vrings 1
        Reserved (should be zero) [0][0]

        Vring 0
          Device Address 0xffffffff
          Alignment 4096
          Number of buffers 16
          Notify ID 0
          Physical Address 0x0

      Unknown resource type found: 9 [hdr: 0xb8]

      """)
  }
}
