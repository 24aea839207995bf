import SharedMemory
import Testing

/// The split-ring view: its geometry is checked once, then every index is masked, so no
/// access can leave the ring's bytes.
@Suite struct SplitRingViewTests {
  /// Linux `vring_init`: the used ring at align_up(16·num + 2·(3 + num), align).
  static func usedOffset(_ count: Int, _ alignment: Int) -> Int {
    (16 * count + 2 * (3 + count) + alignment - 1) & ~(alignment - 1)
  }

  @Test(arguments: [0, 3, 6, 65536, -8])
  func rejectsCountsThatAreNotPowersOfTwoInRange(count: Int) throws {
    let region = try SharedMapping.anonymous(count: 1 << 20).region
    #expect(throws: SharedMemoryError.self) {
      try SplitRingView(region: region, count: count, usedOffset: 4096, byteOrder: .little)
    }
  }

  @Test func rejectsAUsedRingOverlappingTheAvailableRing() throws {
    let region = try SharedMapping.anonymous(count: 8192).region
    // 16 entries: the available ring ends at 16·16 + 6 + 2·16 = 294.
    #expect(throws: SharedMemoryError.self) {
      try SplitRingView(region: region, count: 16, usedOffset: 292, byteOrder: .little)
    }
    #expect(throws: SharedMemoryError.self) {  // not a multiple of 4
      try SplitRingView(region: region, count: 16, usedOffset: 298, byteOrder: .little)
    }
    _ = try SplitRingView(region: region, count: 16, usedOffset: 296, byteOrder: .little)
  }

  @Test func rejectsARegionShorterThanTheRing() throws {
    let mapping = try SharedMapping.anonymous(count: 8192)
    let need = SplitRingView.byteCount(count: 16, usedOffset: 4096)  // 4096 + 6 + 128
    #expect(need == 4230)
    let short = try mapping.region.slice(at: 0, length: need - 1)
    #expect(throws: SharedMemoryError.self) {
      try SplitRingView(region: short, count: 16, usedOffset: 4096, byteOrder: .little)
    }
    let exact = try mapping.region.slice(at: 0, length: need)
    _ = try SplitRingView(region: exact, count: 16, usedOffset: 4096, byteOrder: .little)
    let misaligned = try mapping.region.slice(at: 2, length: need)
    #expect(throws: SharedMemoryError.self) {
      try SplitRingView(region: misaligned, count: 16, usedOffset: 4096, byteOrder: .little)
    }
  }

  @Test(arguments: ByteOrder.allCases)
  func fieldsLieWhereLinuxPutsThem(order: ByteOrder) throws {
    let count = 8, used = Self.usedOffset(8, 64)  // 192
    let region = try SharedMapping.anonymous(count: 4096).region
    let ring = try SplitRingView(region: region, count: count, usedOffset: used, byteOrder: order)
    ring.setDescriptor(3, address: 0x1122_3344_5566_7788, length: 0xAABB_CCDD, flags: 3, next: 5)
    #expect(try region.load(UInt64.self, at: 48, order: order) == 0x1122_3344_5566_7788)
    #expect(try region.load(UInt32.self, at: 56, order: order) == 0xAABB_CCDD)
    #expect(try region.load(UInt16.self, at: 60, order: order) == 3)
    #expect(try region.load(UInt16.self, at: 62, order: order) == 5)
    #expect(ring.descriptor(3) == (0x1122_3344_5566_7788, 0xAABB_CCDD, 3, 5))
    ring.setAvailFlags(1)
    ring.storeAvailIndex(0x1234)
    ring.setAvailRing(2, 7)
    ring.setUsedEvent(0x4321)
    #expect(try region.load(UInt16.self, at: 128, order: order) == 1)
    #expect(try region.load(UInt16.self, at: 130, order: order) == 0x1234)
    #expect(try region.load(UInt16.self, at: 132 + 4, order: order) == 7)
    #expect(try region.load(UInt16.self, at: 132 + 16, order: order) == 0x4321)
    ring.setUsedFlags(1)
    ring.storeUsedIndex(0x0102)
    ring.setUsedElement(1, id: 6, length: 0x0A0B_0C0D)
    ring.setAvailEvent(0x5566)
    #expect(try region.load(UInt16.self, at: used, order: order) == 1)
    #expect(try region.load(UInt16.self, at: used + 2, order: order) == 0x0102)
    #expect(try region.load(UInt32.self, at: used + 12, order: order) == 6)
    #expect(try region.load(UInt32.self, at: used + 16, order: order) == 0x0A0B_0C0D)
    #expect(try region.load(UInt16.self, at: used + 4 + 64, order: order) == 0x5566)
    #expect(ring.availFlags == 1 && ring.loadAvailIndex() == 0x1234 && ring.availRing(2) == 7)
    #expect(ring.usedEvent == 0x4321 && ring.usedFlags == 1 && ring.loadUsedIndex() == 0x0102)
    #expect(ring.usedElement(1) == (6, 0x0A0B_0C0D) && ring.availEvent == 0x5566)
  }

  /// Free-running indices far past num land on their masked slot; nothing outside the
  /// ring's bytes changes (the bytes after it keep their pattern).
  @Test func indicesAreMaskedAndNothingOutsideTheRingIsTouched() throws {
    let count = 4, used = Self.usedOffset(4, 4)
    let size = SplitRingView.byteCount(count: count, usedOffset: used)
    let mapping = try SharedMapping.anonymous(count: 4096)
    try mapping.region.fill(0xA5, at: 0, count: 4096)
    let ringRegion = try mapping.region.slice(at: 0, length: size)
    let ring = try SplitRingView(region: ringRegion, count: count, usedOffset: used, byteOrder: .little)
    for i in [UInt16(3), 7, 0xFFFF, 0x8003] {
      ring.setDescriptor(i, address: 0, length: 0, flags: 0, next: 0)
      ring.setAvailRing(i, 1)
      ring.setUsedElement(i, id: 2, length: 3)
      ring.setUsedEvent(i)
      ring.setAvailEvent(i)
    }
    #expect(ring.descriptor(0xFFFF) == (0, 0, 0, 0))
    #expect(ring.availRing(0x7FFF) == 1 && ring.usedElement(0xFFFB) == (2, 3))
    let after = try mapping.region.bytes(at: size, count: 4096 - size)
    #expect(after.allSatisfy { $0 == 0xA5 })
    // Slots 0...2 of the descriptor table were never written.
    #expect(try mapping.region.bytes(at: 0, count: 48).allSatisfy { $0 == 0xA5 })
  }
}
