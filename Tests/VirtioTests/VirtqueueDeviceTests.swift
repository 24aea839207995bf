import SharedMemory
import Testing
import Virtio

/// The device side, and what it does with a driver that breaks the protocol.
@Suite struct VirtqueueDeviceTests {
  func expectBroken(
    _ f: inout RingFixture, _ message: String, code: VirtioError.Code = .brokenQueue,
    sourceLocation: SourceLocation = #_sourceLocation
  ) {
    do {
      _ = try f.device.takeAvailable()
      Issue.record("no error", sourceLocation: sourceLocation)
    } catch {
      #expect(error.code == code, sourceLocation: sourceLocation)
      #expect(error.message == message, sourceLocation: sourceLocation)
    }
    #expect(f.device.isBroken, sourceLocation: sourceLocation)
    // Broken stays broken, with the same error.
    #expect(throws: VirtioError.self, sourceLocation: sourceLocation) {
      try f.device.takeAvailable()
    }
  }

  @Test(arguments: ByteOrder.allCases)
  func returnUsedWritesElementThenIndex(order: ByteOrder) throws {
    var f = try RingFixture(count: 8, alignment: 64, order: order)
    _ = try f.driver.add(address: f.address(0x100), length: 64, isWritable: true)
    let chain = try #require(try f.device.takeAvailable())
    #expect(chain.first.location.offset == 0x100)
    #expect(chain.first.isWritable)
    try f.device.returnUsed(head: chain.head, length: 33)
    // used at align_up(16·8 + 2·(3+8), 64) = 192: flags, idx = 1, ring[0] = {id 0, len 33}.
    #expect(f.layout.usedOffset == 192)
    #expect(try f.u16(194) == 1)
    #expect(try f.u32(196) == 0)
    #expect(try f.u32(200) == 33)
  }

  @Test func returningAHeadNotHeldIsRejectedWithoutBreaking() throws {
    var f = try RingFixture()
    #expect(throws: VirtioError.self) { try f.device.returnUsed(head: 3, length: 0) }
    #expect(throws: VirtioError.self) { try f.device.returnUsed(head: 300, length: 0) }
    _ = try f.driver.add(address: f.address(0), length: 8, isWritable: true)
    let c = try #require(try f.device.takeAvailable())
    #expect(throws: VirtioError.self) { try f.device.returnUsed(head: c.head, length: 9) }
    try f.device.returnUsed(head: c.head, length: 8)
    #expect(throws: VirtioError.self) { try f.device.returnUsed(head: c.head, length: 8) }
    #expect(!f.device.isBroken)
  }

  @Test func headBeyondTheRingBreaksTheQueue() throws {
    var f = try RingFixture(count: 8)
    _ = try f.driver.add(address: f.address(0), length: 8, isWritable: true)
    try f.poke16(300, f.layout.availRing(0))
    expectBroken(&f, "avail ring[0] head 300 ≥ ring size 8")
  }

  @Test func availIndexJumpingMoreThanNumBreaksTheQueue() throws {
    var f = try RingFixture(count: 8)
    try f.poke16(9, f.layout.availIndex)
    expectBroken(&f, "avail idx 9 is 9 ahead of last seen 0, more than ring size 8")
  }

  @Test func headStillHeldBreaksTheQueue() throws {
    var f = try RingFixture(count: 8)
    _ = try f.driver.add(address: f.address(0), length: 8, isWritable: true)
    _ = try #require(try f.device.takeAvailable())
    // A hostile driver offers head 0 again while the device holds it.
    try f.poke16(0, f.layout.availRing(1))
    try f.poke16(2, f.layout.availIndex)
    expectBroken(&f, "avail ring[1] offers head 0, which the device still holds")
  }

  @Test func loopingChainBreaksTheQueue() throws {
    var f = try RingFixture(count: 4)
    _ = try f.driver.add([VirtqueueBuffer(address: f.address(0), length: 8, isWritable: false),
                          VirtqueueBuffer(address: f.address(8), length: 8, isWritable: false)])
    // Descriptor 1 points back to 0.
    try f.poke16(1, 16 + 12)
    try f.poke16(0, 16 + 14)
    expectBroken(&f, "chain from head 0 is longer than ring size 4 (a loop)")
  }

  @Test func nextBeyondTheRingBreaksTheQueue() throws {
    var f = try RingFixture(count: 4)
    _ = try f.driver.add(address: f.address(0), length: 8, isWritable: false)
    try f.poke16(1, 12)
    try f.poke16(4, 14)
    expectBroken(&f, "descriptor 0 has next 4 ≥ ring size 4")
  }

  @Test func indirectDescriptorBreaksTheQueue() throws {
    var f = try RingFixture()
    _ = try f.driver.add(address: f.address(0), length: 16, isWritable: false)
    try f.poke16(4, 12)
    expectBroken(&f, "descriptor 0 has INDIRECT, which was not negotiated")
  }

  @Test func readableAfterWritableBreaksTheQueue() throws {
    var f = try RingFixture()
    _ = try f.driver.add([VirtqueueBuffer(address: f.address(0), length: 8, isWritable: true),
                          VirtqueueBuffer(address: f.address(8), length: 8, isWritable: true)])
    let second = try f.u16(14)
    try f.poke16(0, Int(second) * 16 + 12)  // make the second one readable
    expectBroken(&f, "descriptor \(second) is device-readable after a writable descriptor")
  }

  @Test(arguments: [
    (RingFixture.bufferBase - 1, UInt32(8)),
    (RingFixture.bufferBase + 0xFFF8, UInt32(9)),
    (UInt64.max - 3, UInt32(8)),
    (UInt64(0), UInt32(1)),
    (RingFixture.bufferBase, UInt32.max),
  ] as [(UInt64, UInt32)])
  func addressOutsideTheMapBreaksTheQueue(address: UInt64, length: UInt32) throws {
    var f = try RingFixture()
    _ = try f.driver.add(address: address, length: length, isWritable: true)
    expectBroken(&f,
                 "descriptor 0 addr 0x\(String(address, radix: 16)) len \(length) is outside "
                   + "the 1 mapped window(s)", code: .addressNotMapped)
  }
}

/// The driver side against a device that breaks the protocol.
@Suite struct VirtqueueDriverHostileDeviceTests {
  func expectBroken(_ f: inout RingFixture, _ message: String,
                    sourceLocation: SourceLocation = #_sourceLocation) {
    do {
      _ = try f.driver.reclaim()
      Issue.record("no error", sourceLocation: sourceLocation)
    } catch {
      #expect(error.code == .brokenQueue, sourceLocation: sourceLocation)
      #expect(error.message == message, sourceLocation: sourceLocation)
    }
    #expect(f.driver.isBroken, sourceLocation: sourceLocation)
    #expect(throws: VirtioError.self, sourceLocation: sourceLocation) {
      try f.driver.add(address: f.address(0), length: 1, isWritable: true)
    }
    let kick = f.driver.kickPrepare()
    #expect(!kick, sourceLocation: sourceLocation)
  }

  @Test func usedIDBeyondTheRing() throws {
    var f = try RingFixture(count: 256, alignment: 4096, bufferBytes: 4096)
    _ = try f.driver.add(address: f.address(0), length: 8, isWritable: true)
    try f.poke32(300, f.layout.usedRing(0))
    try f.poke16(1, f.layout.usedIndex)
    expectBroken(&f, "used id 300 ≥ ring size 256")
  }

  @Test func usedIDNeverGiven() throws {
    var f = try RingFixture(count: 8)
    _ = try f.driver.add(address: f.address(0), length: 8, isWritable: true)
    try f.poke32(5, f.layout.usedRing(0))
    try f.poke16(1, f.layout.usedIndex)
    expectBroken(&f, "used id 5 is not the head of a buffer in flight")
  }

  @Test func usedLengthLargerThanTheBuffer() throws {
    var f = try RingFixture(count: 8)
    _ = try f.driver.add(address: f.address(0), length: 512, isWritable: true)
    let c = try #require(try f.device.takeAvailable())
    try f.device.returnUsed(head: c.head, length: 512)
    try f.poke32(513, f.layout.usedRing(0) + 4)
    expectBroken(&f, "used len 513 for id 0 exceeds the 512 byte(s) offered")
  }

  @Test func usedIndexRunningPastTheBuffersInFlight() throws {
    var f = try RingFixture(count: 8)
    _ = try f.driver.add(address: f.address(0), length: 8, isWritable: true)
    try f.poke16(2, f.layout.usedIndex)
    expectBroken(&f, "used idx 2 is 2 past last seen 0, but only 1 buffer(s) are in flight")
  }

  @Test func usedIDReturnedTwice() throws {
    var f = try RingFixture(count: 8)
    _ = try f.driver.add(address: f.address(0), length: 8, isWritable: true)
    _ = try f.driver.add(address: f.address(8), length: 8, isWritable: true)
    let c = try #require(try f.device.takeAvailable())
    try f.device.returnUsed(head: c.head, length: 1)
    _ = try #require(try f.driver.reclaim())
    // The device publishes head 0 a second time.
    try f.poke32(0, f.layout.usedRing(1))
    try f.poke16(2, f.layout.usedIndex)
    expectBroken(&f, "used id 0 is not the head of a buffer in flight")
  }
}
