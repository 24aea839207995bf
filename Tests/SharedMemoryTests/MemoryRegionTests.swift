import SharedMemory
import Testing

@Suite struct MemoryRegionTests {
  let region = try! SharedMapping.anonymous(count: 4096).region

  @Test func integersRoundTripInBothByteOrders() throws {
    try region.store(UInt32(0x1122_3344), at: 8, order: .little)
    #expect(try region.bytes(at: 8, count: 4) == [0x44, 0x33, 0x22, 0x11])
    try region.store(UInt32(0x1122_3344), at: 8, order: .big)
    #expect(try region.bytes(at: 8, count: 4) == [0x11, 0x22, 0x33, 0x44])
    #expect(try region.load(UInt32.self, at: 8, order: .big) == 0x1122_3344)
    #expect(try region.load(UInt32.self, at: 8, order: .little) == 0x4433_2211)
    try region.store(UInt64(0x0102_0304_0506_0708), at: 3, order: .little)  // unaligned is fine
    #expect(try region.load(UInt64.self, at: 3, order: .little) == 0x0102_0304_0506_0708)
    try region.store(UInt16(0xBEEF), at: 4094, order: .big)
    #expect(try region.loadByte(at: 4094) == 0xBE)
  }

  @Test(arguments: [-1, 4093, 4096, Int.max, Int.min])
  func outOfRangeAccessThrows(offset: Int) {
    #expect(throws: SharedMemoryError.self) { try region.load(UInt32.self, at: offset, order: .little) }
    #expect(throws: SharedMemoryError.self) { try region.store(UInt32(1), at: offset, order: .big) }
    #expect(throws: SharedMemoryError.self) { try region.fill(0, at: offset, count: 4) }
    #expect(throws: SharedMemoryError.self) { try region.bytes(at: offset, count: 4) }
  }

  @Test func errorNamesTheRange() {
    do {
      _ = try region.load(UInt32.self, at: 0x1000, order: .little)
      Issue.record("no error")
    } catch {
      #expect(error.code == .outOfBounds)
      #expect(error.message == "access [0x1000, +0x4) outside region of 0x1000 bytes")
    }
  }

  @Test func hugeLengthsDoNotOverflow() {
    #expect(throws: SharedMemoryError.self) { try region.slice(at: 1, length: Int.max) }
    #expect(throws: SharedMemoryError.self) { try region.fill(0, at: 4095, count: Int.max) }
    #expect(throws: SharedMemoryError.self) { try region.bytes(at: 0, count: -1) }
  }

  @Test func slicesViewTheSameBytesAndAreBounded() throws {
    let slice = try region.slice(at: 256, length: 16)
    try slice.store(UInt8(0xAB), at: 15, order: .little)
    #expect(try region.loadByte(at: 271) == 0xAB)
    #expect(throws: SharedMemoryError.self) { try slice.loadByte(at: 16) }
    #expect(slice.hostAddress == region.hostAddress + 256)
    let nested = try slice.slice(at: 8, length: 8)
    #expect(nested.hostAddress == region.hostAddress + 264)
    #expect(throws: SharedMemoryError.self) { try slice.slice(at: 8, length: 9) }
  }

  @Test func acquireReleaseRequireAlignment() throws {
    try region.storeRelease(UInt16(7), at: 2, order: .little)
    #expect(try region.loadAcquire(UInt16.self, at: 2, order: .little) == 7)
    try region.storeRelease(UInt32(0xA0B0C0D0), at: 4, order: .big)
    #expect(try region.bytes(at: 4, count: 4) == [0xA0, 0xB0, 0xC0, 0xD0])
    #expect(try region.loadAcquire(UInt32.self, at: 4, order: .big) == 0xA0B0C0D0)
    #expect(throws: SharedMemoryError.self) { try region.loadAcquire(UInt16.self, at: 3, order: .little) }
    #expect(throws: SharedMemoryError.self) { try region.storeRelease(UInt32(1), at: 6, order: .little) }
  }

  @Test func byteAcquireReleaseNeedNoAlignment() throws {
    try region.storeRelease(UInt8(7), at: 3)
    #expect(try region.loadAcquire(UInt8.self, at: 3) == 7)
    #expect(try region.loadByte(at: 3) == 7)
    #expect(throws: SharedMemoryError.self) { try region.storeRelease(UInt8(1), at: 4096) }
    #expect(throws: SharedMemoryError.self) { try region.loadAcquire(UInt8.self, at: -1) }
  }

  @Test func byteCopiesFillsAndComparisons() throws {
    try region.write([1, 2, 3, 4, 5], at: 100)
    #expect(try region.bytes(at: 100, count: 5) == [1, 2, 3, 4, 5])
    try region.copy(from: region, at: 100, count: 5, to: 102)  // overlapping: memmove
    #expect(try region.bytes(at: 100, count: 7) == [1, 2, 1, 2, 3, 4, 5])
    try region.fill(0xEE, at: 100, count: 3)
    #expect(try region.bytes(at: 99, count: 5) == [0, 0xEE, 0xEE, 0xEE, 2])
    let probe: [UInt8] = [0xEE, 0xEE]
    #expect(try region.bytesEqual(probe.span, at: 100))
    #expect(try !region.bytesEqual(probe.span, at: 102))
    #expect(throws: SharedMemoryError.self) { try region.write([1, 2], at: 4095) }
    let sum = try region.withBytes(at: 100, count: 3) { span in
      var total = 0
      for index in span.indices { total += Int(span[index]) }
      return total
    }
    #expect(sum == 3 * 0xEE)
    try region.withMutableBytes(at: 200, count: 2) { span in span[0] = 9; span[1] = 8 }
    var destination = [UInt8](repeating: 0, count: 2)
    var span = destination.mutableSpan
    try region.read(at: 200, into: &span)
    _ = consume span
    #expect(destination == [9, 8])
  }

  @Test func atomicsOnHostOrderWords() throws {
    try region.store(UInt32(5), at: 16, order: .host)
    #expect(try region.exchange(9, at: 16) == 5)
    #expect(try region.fetchAdd(1, at: 16) == 9)
    #expect(try region.compareExchange(expected: 10, desired: 1, at: 16))
    #expect(try !region.compareExchange(expected: 10, desired: 2, at: 16))
    #expect(try region.load(UInt32.self, at: 16, order: .host) == 1)
  }
}

@Suite struct RecordViewTests {
  let region = try! SharedMapping.anonymous(count: 4096).region

  @Test(arguments: ByteOrder.allCases)
  func fieldsRoundTripAndLieWhereTheRegionAccessorsPutThem(order: ByteOrder) throws {
    try region.withRecord(at: 100, count: 16, order: order) { r in
      r.store(UInt32(0x1122_3344), at: 0)
      r.store(UInt16(0xBEEF), at: 12)
      r.store(UInt64(0x0102_0304_0506_0708), at: 4)  // unaligned is fine
    }
    #expect(try region.load(UInt32.self, at: 100, order: order) == 0x1122_3344)
    #expect(try region.load(UInt16.self, at: 112, order: order) == 0xBEEF)
    let (a, b, c) = try region.withRecord(at: 100, count: 16, order: order) { r in
      (r.load(UInt32.self, at: 0), r.load(UInt64.self, at: 4), r.load(UInt16.self, at: 12))
    }
    #expect(a == 0x1122_3344 && b == 0x0102_0304_0506_0708 && c == 0xBEEF)
  }

  @Test(arguments: [(-1, 16), (4081, 16), (0, 4097), (Int.max, 1), (8, -1)])
  func aRecordOutsideTheRegionThrowsBeforeAnyAccess(offset: Int, count: Int) {
    #expect(throws: SharedMemoryError.self) {
      try region.withRecord(at: offset, count: count, order: .little) { _ in
        Issue.record("body ran")
      }
    }
  }

  @Test func aFieldOutsideTheRecordTraps() async {
    await #expect(processExitsWith: .failure) {
      let region = try! SharedMapping.anonymous(count: 4096).region
      let field = Int(CommandLine.arguments.count) + 12  // not a constant: checked at run time
      try! region.withRecord(at: 0, count: 16, order: .little) { r in
        r.store(UInt64(1), at: field)  // [13+, +8) is past the 16 bytes
      }
    }
  }
}
