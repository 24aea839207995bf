import SharedMemory
import Testing
import Virtio

@Suite struct VirtqueueDriverTests {
  @Test(arguments: ByteOrder.allCases)
  func addWritesDescriptorSlotAndIndexAtTheirOffsets(order: ByteOrder) throws {
    var f = try RingFixture(count: 8, alignment: 64, order: order)
    let head = try f.driver.add(address: f.address(0x200), length: 512, isWritable: true, token: 7)
    #expect(head == 0)
    // Descriptor 0 at offset 0: addr u64, len u32, flags u16 (WRITE), next u16.
    #expect(try f.u64(0) == RingFixture.bufferBase + 0x200)
    #expect(try f.u32(8) == 512)
    #expect(try f.u16(12) == 2)
    #expect(try f.u16(14) == 0)
    // avail at 16·8 = 128: flags 0, idx 1, ring[0] = 0.
    #expect(try f.u16(128) == 0)
    #expect(try f.u16(130) == 1)
    #expect(try f.u16(132) == 0)
    // Raw bytes of avail.idx in the chosen byte order.
    let raw = try f.ringRegion.bytes(at: 130, count: 2)
    #expect(raw == (order == .little ? [1, 0] : [0, 1]))
    #expect(f.driver.freeCount == 7)
    #expect(f.driver.inFlight == 1)
  }

  @Test func chainLinksDescriptorsAndReclaimFreesThemAll() throws {
    var f = try RingFixture(count: 8)
    let head = try f.driver.add([
      VirtqueueBuffer(address: f.address(0), length: 16, isWritable: false),
      VirtqueueBuffer(address: f.address(64), length: 100, isWritable: false),
      VirtqueueBuffer(address: f.address(512), length: 200, isWritable: true),
    ], token: 99)
    #expect(try f.u16(12) == 1)  // NEXT
    let second = try f.u16(14)
    #expect(try f.u16(Int(second) * 16 + 12) == 1)
    let third = try f.u16(Int(second) * 16 + 14)
    #expect(try f.u16(Int(third) * 16 + 12) == 2)  // WRITE, no NEXT
    #expect(f.driver.freeCount == 5)

    let chain = try #require(try f.device.takeAvailable())
    #expect(chain.head == head)
    #expect(chain.count == 3)
    #expect(chain.readableLength == 116)
    #expect(chain.writableLength == 200)
    let all = try f.device.descriptors(of: chain)
    #expect(all.map(\.length) == [16, 100, 200])
    #expect(all.map(\.location.offset) == [0, 64, 512])
    try f.device.returnUsed(head: chain.head, length: 150)
    let used = try #require(try f.driver.reclaim())
    #expect(used == UsedBuffer(head: head, length: 150, token: 99))
    #expect(f.driver.freeCount == 8)
    #expect(try f.driver.reclaim() == nil)
  }

  @Test func fullRingThrowsNoSpaceAndRecovers() throws {
    var f = try RingFixture(count: 4)
    for i in 0..<4 { _ = try f.driver.add(address: f.address(i * 64), length: 64, isWritable: true) }
    do {
      _ = try f.driver.add(address: f.address(0), length: 1, isWritable: true)
      Issue.record("added to a full ring")
    } catch {
      #expect(error.code == .noSpace)
    }
    #expect(!f.driver.isBroken)
    let c = try #require(try f.device.takeAvailable())
    try f.device.returnUsed(head: c.head, length: 0)
    _ = try f.driver.reclaim()
    _ = try f.driver.add(address: f.address(0), length: 1, isWritable: true)
  }

  @Test func chainsMustPutReadableBuffersFirst() throws {
    var f = try RingFixture()
    #expect(throws: VirtioError.self) {
      try f.driver.add([VirtqueueBuffer(address: 0, length: 1, isWritable: true),
                        VirtqueueBuffer(address: 0, length: 1, isWritable: false)])
    }
    #expect(throws: VirtioError.self) { try f.driver.add([]) }
    #expect(!f.driver.isBroken)
  }

  @Test func sixteenBitIndicesWrapAround() throws {
    var f = try RingFixture(count: 4, eventIndex: true)
    for i in 0..<70_000 {
      _ = try f.driver.add(address: f.address(i % 4 * 8), length: 8, isWritable: true,
                           token: UInt32(i))
      _ = f.driver.kickPrepare()
      let c = try #require(try f.device.takeAvailable())
      try f.device.returnUsed(head: c.head, length: 4)
      _ = f.device.shouldNotify()
      let u = try #require(try f.driver.reclaim())
      #expect(u.token == UInt32(i))
      if i % 10_000 == 0 {
        let empty = f.driver.enableCallbacks()
        #expect(empty)
      }
    }
    // 70,000 mod 65,536 = 4,464 on both indices.
    #expect(try f.u16(f.layout.availIndex) == 4464)
    #expect(try f.u16(f.layout.usedIndex) == 4464)
    #expect(f.driver.availableIndex == 4464)
  }
}

@Suite struct VirtqueueDriverNotificationTests {
  @Test func withoutEventIndexTheUsedFlagDecidesTheKick() throws {
    var f = try RingFixture()
    let r104 = f.driver.kickPrepare()  // nothing added
    #expect(!r104)
    _ = try f.driver.add(address: f.address(0), length: 8, isWritable: true)
    let r107 = f.driver.kickPrepare()
    #expect(r107)
    f.device.disableNotifications()
    #expect(try f.u16(f.layout.usedFlags) == 1)  // VRING_USED_F_NO_NOTIFY
    _ = try f.driver.add(address: f.address(8), length: 8, isWritable: true)
    let r112 = f.driver.kickPrepare()
    #expect(!r112)
    let r114 = f.device.enableNotifications()  // two buffers are waiting
    #expect(!r114)
    #expect(try f.u16(f.layout.usedFlags) == 0)
  }

  @Test func eventIndexKicksOnlyWhenCrossingAvailEvent() throws {
    var f = try RingFixture(count: 8, eventIndex: true)
    // The device asks to hear about the first buffer (avail_event = 0).
    let r122 = f.device.enableNotifications()
    #expect(r122)
    #expect(try f.u16(f.layout.availEvent) == 0)
    _ = try f.driver.add(address: f.address(0), length: 8, isWritable: true)
    let r126 = f.driver.kickPrepare()
    #expect(r126)
    // No new request from the device: the second and third buffers do not kick.
    _ = try f.driver.add(address: f.address(8), length: 8, isWritable: true)
    let r130 = f.driver.kickPrepare()
    #expect(!r130)
    _ = try f.driver.add(address: f.address(16), length: 8, isWritable: true)
    let r133 = f.driver.kickPrepare()
    #expect(!r133)
    // The device drains and asks again: avail_event = 3; the next add crosses it.
    for _ in 0..<3 { _ = try f.device.takeAvailable() }
    let r137 = f.device.enableNotifications()
    #expect(r137)
    #expect(try f.u16(f.layout.availEvent) == 3)
    _ = try f.driver.add(address: f.address(24), length: 8, isWritable: true)
    let r141 = f.driver.kickPrepare()
    #expect(r141)
    // Flags stay 0 with EVENT_IDX.
    #expect(try f.u16(f.layout.availFlags) == 0)
  }

  @Test func callbacksWithoutEventIndexUseTheAvailFlag() throws {
    var f = try RingFixture()
    f.driver.disableCallbacks()
    #expect(try f.u16(f.layout.availFlags) == 1)  // VRING_AVAIL_F_NO_INTERRUPT
    _ = try f.driver.add(address: f.address(0), length: 8, isWritable: true)
    let c = try #require(try f.device.takeAvailable())
    try f.device.returnUsed(head: c.head, length: 1)
    let r154 = f.device.shouldNotify()
    #expect(!r154)
    let r156 = f.driver.enableCallbacks()  // one used buffer is pending
    #expect(!r156)
    #expect(try f.u16(f.layout.availFlags) == 0)
    _ = try f.driver.reclaim()
    let r160 = f.driver.enableCallbacks()
    #expect(r160)
  }

  @Test func eventIndexCallbacksWriteUsedEvent() throws {
    var f = try RingFixture(count: 8, eventIndex: true)
    let r166 = f.driver.enableCallbacks()
    #expect(r166)
    #expect(try f.u16(f.layout.usedEvent) == 0)
    for i in 0..<3 { _ = try f.driver.add(address: f.address(i * 8), length: 8, isWritable: true) }
    for i in 0..<3 {
      let c = try #require(try f.device.takeAvailable())
      try f.device.returnUsed(head: c.head, length: 1)
      // Only the first return crosses used_event 0.
      let r174 = f.device.shouldNotify()
      #expect(r174 == (i == 0))
    }
    for _ in 0..<3 { _ = try f.driver.reclaim() }
    f.driver.disableCallbacks()
    #expect(try f.u16(f.layout.availFlags) == 0)  // never the flag with EVENT_IDX
    _ = try f.driver.add(address: f.address(0), length: 8, isWritable: true)
    let c = try #require(try f.device.takeAvailable())
    try f.device.returnUsed(head: c.head, length: 1)
    let r183 = f.device.shouldNotify()
    #expect(!r183)
  }
}
