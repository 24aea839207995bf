import CRemoteprocWire
import RPMsg
import SharedMemory
import Testing

@Suite struct RPMsgWireTests {
  @Test func constantsMatchTheWireHeader() {
    #expect(MemoryLayout<rproc_rpmsg_hdr>.size == RPMsgWire.headerSize)
    #expect(MemoryLayout<rproc_rpmsg_hdr>.offset(of: \.dst) == RPMsgWire.destinationOffset)
    #expect(MemoryLayout<rproc_rpmsg_hdr>.offset(of: \.reserved) == RPMsgWire.reservedOffset)
    #expect(MemoryLayout<rproc_rpmsg_hdr>.offset(of: \.len) == RPMsgWire.lengthOffset)
    #expect(MemoryLayout<rproc_rpmsg_hdr>.offset(of: \.flags) == RPMsgWire.flagsOffset)
    #expect(MemoryLayout<rproc_rpmsg_ns_msg>.size == RPMsgWire.nameServiceMessageSize)
    #expect(UInt32(RPMsgWire.bufferSize) == RPROC_RPMSG_BUF_SIZE)
    #expect(UInt32(RPMsgWire.mtu) == RPROC_RPMSG_MTU)
    #expect(UInt32(RPMsgWire.maximumBufferCount) == RPROC_RPMSG_MAX_NUM_BUFS)
    #expect(EndpointAddress.nameService.rawValue == RPROC_RPMSG_NS_ADDR)
    #expect(EndpointAddress.any.rawValue == RPROC_RPMSG_ADDR_ANY)
    #expect(EndpointAddress.firstDynamic.rawValue == RPROC_RPMSG_RESERVED_ADDRESSES)
  }

  /// Linux: `num_bufs = vring0.num < MAX_RPMSG_NUM_BUFS / 2 ? num * 2 : MAX_RPMSG_NUM_BUFS`.
  @Test(arguments: [1, 2, 16, 128, 255, 256, 512, 1024])
  func bufferCountFollowsLinux(count: Int) {
    #expect(RPMsgWire.bufferCount(receiveVringCount: count) == (count < 256 ? 2 * count : 512))
  }

  @Test func nameServiceMessageBytes() {
    let le = RPMsgWire.nameServiceMessage(name: "rpmsg-tty", address: EndpointAddress(0x400),
                                          destroy: false, order: .little)
    #expect(le.count == 40)
    #expect(Array(le[0..<9]) == Array("rpmsg-tty".utf8))
    #expect(le[9..<32].allSatisfy { $0 == 0 })
    #expect(Array(le[32..<40]) == [0x00, 0x04, 0, 0, 0, 0, 0, 0])
    let be = RPMsgWire.nameServiceMessage(name: "x", address: EndpointAddress(0x1234_5678),
                                          destroy: true, order: .big)
    #expect(Array(be[32..<40]) == [0x12, 0x34, 0x56, 0x78, 0, 0, 0, 1])
    // A 31-byte name keeps its terminator; longer names are cut to 31.
    let long = RPMsgWire.nameServiceMessage(name: String(repeating: "n", count: 40),
                                            address: .nameService, destroy: false, order: .little)
    #expect(long[30] == UInt8(ascii: "n") && long[31] == 0)
  }

  @Test func decodesWhatItEncodes() throws {
    for order in ByteOrder.allCases {
      let bytes = RPMsgWire.nameServiceMessage(name: "rpmsg-raw", address: EndpointAddress(1025),
                                               destroy: true, order: order)
      let a = try RPMsgWire.decodeNameService(bytes.span, order: order).get()
      #expect(a == RPMsgWire.Announcement(name: "rpmsg-raw", address: EndpointAddress(1025),
                                          isDestroy: true))
    }
  }

  @Test func malformedNameServiceMessagesAreRejected() {
    let good = RPMsgWire.nameServiceMessage(name: "svc", address: EndpointAddress(7),
                                            destroy: false, order: .little)
    func problem(_ bytes: [UInt8]) -> RPMsgWire.NameServiceProblem? {
      if case .failure(let f) = RPMsgWire.decodeNameService(bytes.span, order: .little) {
        return f.problem
      }
      return nil
    }
    #expect(problem(good) == nil)
    #expect(problem(Array(good.prefix(39))) == .wrongSize(39))
    #expect(problem(good + [0]) == .wrongSize(41))
    #expect(problem([]) == .wrongSize(0))
    var unterminated = good
    for i in 0..<32 { unterminated[i] = UInt8(ascii: "a") }
    #expect(problem(unterminated) == .missingTerminator)
    var badUTF8 = good
    badUTF8[0] = 0xFF
    #expect(problem(badUTF8) == .invalidUTF8)
    var empty = good
    empty[0] = 0
    #expect(problem(empty) == .emptyName)
  }
}
