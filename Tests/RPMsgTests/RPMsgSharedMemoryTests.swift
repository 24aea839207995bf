import RPMsg
import SharedMemory
import Testing
import Virtio

/// What lands in shared memory, byte by byte, against hand-computed values.
@Suite struct RPMsgSharedMemoryTests {
  @Test(arguments: ByteOrder.allCases)
  func hostBringUpWritesStatusFeaturesRingsAndPostsReceiveBuffers(order: ByteOrder) throws {
    // 16-entry vrings: vring_size(16, 4096) = 4230 bytes, so the loopback places vring 0 at
    // 0x1000, vring 1 at 0x3000 and the pool (32 buffers, 16 receive) at 0x5000.
    let pair = try RPMsgLoopback(vringCount: 16, features: [.rpmsgNameService, .eventIndex],
                                 hostFeatures: [.rpmsgNameService], byteOrder: order)
    try pair.host.startHost(resource: pair.resource, vrings: pair.vringMemory,
                            buffers: pair.bufferMemory, notifyIDs: [0, 1])
    let s = pair.shared
    #expect(try s.loadByte(at: 20) == 7)  // status ACK | DRIVER | DRIVER_OK
    #expect(try s.load(UInt32.self, at: 12, order: order) == 1)  // gfeatures: NS only
    #expect(try s.load(UInt32.self, at: 24, order: order) == 0x1000_1000)  // vring 0 da
    #expect(try s.load(UInt32.self, at: 44, order: order) == 0x1000_3000)  // vring 1 da
    #expect(try s.load(UInt32.self, at: 44 + 12, order: order) == 1)  // vring 1 notifyid
    // vring 0 at 0x1000: descriptor i = receive buffer i, 512 bytes, WRITE.
    let pool: UInt64 = 0x1000_5000
    for i in 0..<16 {
      let d = 0x1000 + 16 * i
      #expect(try s.load(UInt64.self, at: d, order: order) == pool + UInt64(512 * i))
      #expect(try s.load(UInt32.self, at: d + 8, order: order) == 512)
      #expect(try s.load(UInt16.self, at: d + 12, order: order) == 2)
    }
    #expect(try s.load(UInt16.self, at: 0x1000 + 256 + 2, order: order) == 16)  // avail.idx
    // vring 1's avail.flags: tx-complete interrupts off (VRING_AVAIL_F_NO_INTERRUPT).
    #expect(try s.load(UInt16.self, at: 0x3000 + 256, order: order) == 1)
  }

  @Test(arguments: ByteOrder.allCases)
  func sentMessageHeaderAndDescriptor(order: ByteOrder) throws {
    let pair = try startedPair(vringCount: 16, hostFeatures: [.rpmsgNameService], order: order,
                               kicks: .manual)
    let e = try pair.host.createEndpoint(address: EndpointAddress(0x500),
                                         destination: EndpointAddress(0x1234)) { _ in }
    try e.trySend([0xDE, 0xAD, 0xBE, 0xEF, 0x01])
    let s = pair.shared
    // First transmit buffer = pool buffer 16 (the second half), at 0x5000 + 16·512.
    let b = 0x5000 + 16 * 512
    #expect(try s.load(UInt32.self, at: b, order: order) == 0x500)  // src
    #expect(try s.load(UInt32.self, at: b + 4, order: order) == 0x1234)  // dst
    #expect(try s.load(UInt32.self, at: b + 8, order: order) == 0)  // reserved
    #expect(try s.load(UInt16.self, at: b + 12, order: order) == 5)  // len
    #expect(try s.load(UInt16.self, at: b + 14, order: order) == 0)  // flags
    #expect(try s.bytes(at: b + 16, count: 5) == [0xDE, 0xAD, 0xBE, 0xEF, 0x01])
    // vring 1 at 0x3000: descriptor 0 → that buffer, len 16 + 5, device-readable.
    #expect(try s.load(UInt64.self, at: 0x3000, order: order) == 0x1000_0000 + UInt64(b))
    #expect(try s.load(UInt32.self, at: 0x3008, order: order) == 21)
    #expect(try s.load(UInt16.self, at: 0x300C, order: order) == 0)
    #expect(try s.load(UInt16.self, at: 0x3000 + 256 + 2, order: order) == 1)  // avail.idx
    #expect(try s.load(UInt16.self, at: 0x3000 + 256 + 4, order: order) == 0)  // avail.ring[0]
  }

  @Test func remoteAnnouncementBytesAndUsedElement() throws {
    let pair = try startedPair(vringCount: 16, kicks: .manual)
    _ = try pair.remote.createEndpoint(name: "rpmsg-client-sample", address: EndpointAddress(0x401),
                                       announce: true) { _ in }
    // The remote took host receive buffer 0 (pool 0x5000) for the announcement.
    let s = pair.shared
    #expect(try s.load(UInt32.self, at: 0x5000, order: .little) == 0x401)
    #expect(try s.load(UInt32.self, at: 0x5004, order: .little) == 53)
    #expect(try s.load(UInt16.self, at: 0x500C, order: .little) == 40)
    #expect(try s.bytes(at: 0x5010, count: 20) == Array("rpmsg-client-sample".utf8) + [0])
    #expect(try s.bytes(at: 0x5010 + 32, count: 8) == [0x01, 0x04, 0, 0, 0, 0, 0, 0])
    // vring 0's used ring at 0x1000 + align_up(16·16 + 2·(3+16), 4096) = 0x2000:
    // used.idx 1, ring[0] = {id 0, len 16 + 40}.
    let used = 0x2000
    #expect(try s.load(UInt16.self, at: used + 2, order: .little) == 1)
    #expect(try s.load(UInt32.self, at: used + 4, order: .little) == 0)
    #expect(try s.load(UInt32.self, at: used + 8, order: .little) == 56)
  }
}
