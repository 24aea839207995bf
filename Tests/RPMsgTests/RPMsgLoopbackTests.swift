import RPMsg
import SharedMemory
import Testing
import Synchronization
import Virtio

@Suite struct RPMsgLoopbackTests {
  @Test(arguments: ByteOrder.allCases)
  func echoBetweenRemoteAndHost(order: ByteOrder) throws {
    let pair = try startedPair(order: order)
    #expect(pair.host.isRunning && pair.remote.isRunning)
    #expect(pair.host.negotiatedFeatures == [.rpmsgNameService, .eventIndex])
    // The remote: an echo endpoint at a fixed address.
    let echo = try pair.remote.createEndpoint(address: EndpointAddress(0x400)) { message in
      let payload = message.payload
      try? pair.remote.endpoint(at: EndpointAddress(0x400))?.trySend(payload, to: message.source)
    }
    let got = Collector<RPMsgMessage>()
    let client = try pair.host.createEndpoint(destination: echo.address) { message in
      got.append(RPMsgMessage(source: message.source, destination: message.destination,
                              payload: message.payload))
    }
    #expect(client.address == EndpointAddress(1024))
    for i in 0..<100 { try client.trySend("ping \(i)".bytes) }
    #expect(got.count == 100)
    #expect(got.all.last == RPMsgMessage(source: echo.address, destination: client.address,
                                         payload: "ping 99".bytes))
    #expect(pair.host.counters.sent == 100)
    #expect(pair.host.counters.received == 100)
    #expect(pair.remote.counters.received == 100)
    #expect(pair.host.counters.dropped == 0)
  }
}

@Suite struct RPMsgIndexWrapTests {
  /// 70,000 echoes through 4-entry vrings: every ring index wraps past 65,535 (both
  /// directions, both roles, EVENT_IDX arithmetic included).
  @Test func echoesKeepFlowingAcrossTheSixteenBitWrap() throws {
    let pair = try startedPair(vringCount: 4, kicks: .manual)
    let echo = try pair.remote.createEndpoint(address: EndpointAddress(0x400)) { m in
      try? pair.remote.endpoint(at: EndpointAddress(0x400))?.trySend(m.payload, to: m.source)
    }
    let last = Mutex<UInt32>(0)
    let client = try pair.host.createEndpoint(destination: echo.address) { m in
      m.withPayload { p in last.withLock { $0 = UInt32(p[0]) | UInt32(p[1]) << 8 | UInt32(p[2]) << 16 } }
    }
    for i in 0..<70_000 {
      try client.trySend([UInt8(truncatingIfNeeded: i), UInt8(truncatingIfNeeded: i >> 8),
                          UInt8(truncatingIfNeeded: i >> 16)])
      pair.remote.handleKick(vring: 1)
      pair.host.handleKick(vring: 0)
      if last.withLock({ $0 }) != UInt32(i) {
        Issue.record("echo \(i) missing")
        break
      }
    }
    #expect(pair.host.counters.received == 70_000)
    #expect(pair.host.transportError == nil && pair.remote.transportError == nil)
    // vring 1 at 0x3000 (vring_size(4, 4096) = 4134 bytes, page-rounded): avail.idx at
    // 16·4 + 2 and used.idx at 4096 + 2 both read 70,000 mod 65,536.
    #expect(try pair.shared.load(UInt16.self, at: 0x3000 + 64 + 2, order: .little) == 4464)
    #expect(try pair.shared.load(UInt16.self, at: 0x3000 + 4096 + 2, order: .little) == 4464)
  }
}
