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

  /// A buffer offered again in the same descriptor and slot (rpmsg's steady state) leaves
  /// the ring as a fresh write would; what is compared is the ring itself, so a
  /// descriptor or slot the peer overwrote is written again.
  @Test(arguments: ByteOrder.allCases)
  func reofferingABufferKeepsTheRingExact(order: ByteOrder) throws {
    var f = try RingFixture(count: 4, order: order)
    for i in 0..<4 {
      _ = try f.driver.add(address: f.address(i * 64), length: 64, isWritable: true, token: UInt32(i))
    }
    // Each buffer comes back and is offered again: same descriptor, same slot every lap.
    for n in 0..<12 {
      let i = n % 4
      let chain = try #require(try f.device.takeAvailable())
      #expect(chain.head == UInt16(i))
      #expect(chain.first.location.offset == i * 64 && chain.first.length == 64 && chain.first.isWritable)
      try f.device.returnUsed(head: chain.head, length: 1)
      let used = try #require(try f.driver.reclaim())
      #expect(used.token == UInt32(i))
      let head = try f.driver.add(address: f.address(i * 64), length: 64, isWritable: true, token: UInt32(i))
      #expect(head == UInt16(i))
      #expect(try f.u16(f.layout.availRing(UInt16(n + 4))) == UInt16(i))
    }
    // Everything comes back; then the peer scribbles over every descriptor's length and
    // flags and every avail slot. The next offer writes its descriptor and slot again.
    for _ in 0..<4 {
      let chain = try #require(try f.device.takeAvailable())
      try f.device.returnUsed(head: chain.head, length: 0)
      _ = try #require(try f.driver.reclaim())
    }
    for d in 0..<4 {
      try f.poke32(7, d * 16 + 8)
      try f.poke16(1, d * 16 + 12)
      try f.poke16(UInt16(3 - d), f.layout.availRing(UInt16(d)))
    }
    let head = try f.driver.add(address: f.address(0), length: 64, isWritable: true)
    let d = Int(head) * 16
    #expect(try f.u64(d) == f.address(0))
    #expect(try f.u32(d + 8) == 64)
    #expect(try f.u16(d + 12) == 2)
    #expect(try f.u16(f.layout.availRing(16)) == head)
    let chain = try #require(try f.device.takeAvailable())
    #expect(chain.head == head && chain.first.location.offset == 0 && chain.first.length == 64)
  }

  /// The chain an in-order device returns next is the one offered at `last_used`; a slot the
  /// peer scribbled over gives no guess rather than a wrong index.
  @Test func theExpectedUsedTokenFollowsTheAvailRing() throws {
    var f = try RingFixture(count: 4)
    #expect(f.driver.expectedUsedToken() == nil)
    for i in 0..<3 {
      _ = try f.driver.add(address: f.address(i * 64), length: 64, isWritable: true, token: UInt32(10 + i))
    }
    for i in 0..<3 {
      #expect(f.driver.expectedUsedToken() == UInt32(10 + i))
      let chain = try #require(try f.device.takeAvailable())
      try f.device.returnUsed(head: chain.head, length: 0)
      #expect(try f.driver.reclaim()?.token == UInt32(10 + i))
    }
    #expect(f.driver.expectedUsedToken() == nil)  // slot 3: nothing offered there
    _ = try f.driver.add(address: f.address(0), length: 64, isWritable: true, token: 20)
    try f.poke16(0xFFFF, f.layout.availRing(3))
    #expect(f.driver.expectedUsedToken() == nil)
  }

  /// Buffers offered unpublished stay invisible to the device until `publishAvailable` (or
  /// the next publishing add) stores `avail.idx`, and only then count for the kick.
  @Test(arguments: [false, true])
  func unpublishedOffersAppearTogether(eventIndex: Bool) throws {
    var f = try RingFixture(count: 8, eventIndex: eventIndex)
    for i in 0..<3 {
      try f.driver.addUnpublished(address: f.address(i * 64), length: 64, isWritable: true, token: UInt32(i))
    }
    #expect(try f.u16(f.layout.availIndex) == 0)
    #expect(f.driver.availableIndex == 0)
    #expect(f.driver.unpublishedCount == 3 && f.driver.publishedInFlight == 0 && f.driver.inFlight == 3)
    #expect(try f.device.takeAvailable() == nil)
    let early = f.driver.kickPrepare()
    #expect(!early)  // nothing the device can see yet
    f.driver.publishAvailable()
    #expect(try f.u16(f.layout.availIndex) == 3)
    #expect(f.driver.unpublishedCount == 0 && f.driver.publishedInFlight == 3)
    let kick = f.driver.kickPrepare()
    #expect(kick)
    try f.driver.addUnpublished(address: f.address(3 * 64), length: 64, isWritable: true, token: 3)
    _ = try f.driver.add(address: f.address(4 * 64), length: 64, isWritable: true, token: 4)  // publishes both
    #expect(try f.u16(f.layout.availIndex) == 5)
    for i in 0..<5 {
      let chain = try #require(try f.device.takeAvailable())
      #expect(chain.first.location.offset == i * 64)
    }
    #expect(try f.device.takeAvailable() == nil)
  }

  /// While the driver polls: a batch ends without touching `used_event`, kicks only when the
  /// device asked, and says whether used buffers wait.
  @Test func aPolledBatchLeavesUsedEventAlone() throws {
    var f = try RingFixture(count: 8, eventIndex: true)
    f.driver.disableCallbacks()
    let parked = try f.u16(f.layout.usedEvent)
    _ = try f.driver.add(address: f.address(0), length: 8, isWritable: true)
    let first = f.driver.finishPolledBatch()
    #expect(first.kick && first.idle)  // avail_event 0: the device wants to hear of index 1
    let c = try #require(try f.device.takeAvailable())
    try f.device.returnUsed(head: c.head, length: 1)
    let notify = f.device.shouldNotify()
    #expect(!notify)  // used_event parked: no interrupt
    let second = f.driver.finishPolledBatch()
    #expect(!second.kick && !second.idle)
    #expect(try f.u16(f.layout.usedEvent) == parked)
    _ = try f.driver.reclaim()
    _ = try f.driver.add(address: f.address(0), length: 8, isWritable: true)
    let third = f.driver.finishPolledBatch()
    #expect(!third.kick && third.idle)  // the device did not ask for index 2
    #expect(try f.u16(f.layout.usedEvent) == parked)
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
