import RPMsg
import Synchronization
import Testing

@Suite struct RPMsgEndpointTests {
  @Test func dynamicAddressesStartAt1024AndAreReusedLowestFirst() throws {
    let pair = try startedPair()
    let a = try pair.host.createEndpoint { _ in }
    let b = try pair.host.createEndpoint { _ in }
    let c = try pair.host.createEndpoint { _ in }
    #expect([a, b, c].map(\.address.rawValue) == [1024, 1025, 1026])
    b.destroy()
    #expect(!b.isAlive)
    #expect(try pair.host.createEndpoint { _ in }.address.rawValue == 1025)
    #expect(try pair.host.createEndpoint { _ in }.address.rawValue == 1027)
  }

  @Test func fixedAddressesAndAddressInUse() throws {
    let pair = try startedPair()
    let fixed = try pair.host.createEndpoint(address: EndpointAddress(30)) { _ in }
    #expect(fixed.address.rawValue == 30)
    for taken in [EndpointAddress(30), .nameService] {
      do {
        _ = try pair.host.createEndpoint(address: taken) { _ in }
        Issue.record("created twice")
      } catch {
        #expect(error.code == .addressInUse)
      }
    }
    // Nothing else was disturbed.
    #expect(fixed.isAlive)
    #expect(try pair.host.createEndpoint { _ in }.address.rawValue == 1024)
    fixed.destroy()
    _ = try pair.host.createEndpoint(address: EndpointAddress(30)) { _ in }
  }

  @Test func thousandsOfEndpointsEachGetTheirMessages() throws {
    let pair = try startedPair(vringCount: 64)
    let hits = Mutex<[UInt32: Int]>([:])
    var remote: [RPMsgEndpoint] = []
    for _ in 0..<1200 {
      remote.append(try pair.remote.createEndpoint { m in
        hits.withLock { $0[m.destination.rawValue, default: 0] += 1 }
      })
    }
    #expect(pair.remote.endpointCount == 1201)  // + the name service
    let sender = try pair.host.createEndpoint { _ in }
    for e in remote { try sender.trySend([1], to: e.address) }
    for e in remote.reversed() { try sender.trySend([2, 3], to: e.address) }
    let seen = hits.withLock { $0 }
    #expect(seen.count == 1200)
    #expect(seen.values.allSatisfy { $0 == 2 })
    for e in remote { e.destroy() }
    #expect(pair.remote.endpointCount == 1)
  }

  @Test func replyAnswersTheSourceFromTheReceivingEndpoint() throws {
    let pair = try startedPair()
    let seen = Collector<Bool>()
    let echo = try pair.remote.createEndpoint(address: EndpointAddress(0x400)) { m in
      seen.append(m.endpoint.address == m.destination)
      m.withPayload { payload in
        do throws(RPMsgError) { try m.reply(payload) } catch { Issue.record("\(error)") }
      }
    }
    let got = Collector<[UInt32]>()
    let client = try pair.host.createEndpoint(destination: echo.address) { m in
      got.append([m.source.rawValue, m.destination.rawValue] + m.payload.map(UInt32.init))
    }
    let other = try pair.host.createEndpoint(destination: echo.address) { m in
      got.append([m.source.rawValue, m.destination.rawValue] + m.payload.map(UInt32.init))
    }
    try client.trySend([7, 8])
    try other.trySend([9])
    try client.trySend([])
    #expect(got.all == [[0x400, client.address.rawValue, 7, 8],
                        [0x400, other.address.rawValue, 9],
                        [0x400, client.address.rawValue]])
    #expect(seen.all == [true, true, true])
  }

  @Test func sendVariantsCarryTheRightAddresses() throws {
    let pair = try startedPair()
    let got = Collector<[UInt32]>()
    let sink = try pair.remote.createEndpoint(address: EndpointAddress(0x400)) { m in
      got.append([m.source.rawValue, m.destination.rawValue, UInt32(m.count)])
    }
    let other = try pair.remote.createEndpoint(address: EndpointAddress(0x401)) { m in
      got.append([m.source.rawValue, m.destination.rawValue, UInt32(m.count)])
    }
    let e = try pair.host.createEndpoint(destination: sink.address) { _ in }
    try e.trySend([1])  // default destination
    try e.trySend([1, 2], to: other.address)  // sendTo
    try e.trySend([1, 2, 3], from: EndpointAddress(0x77), to: sink.address)  // off-channel
    #expect(got.all == [[1024, 0x400, 1], [1024, 0x401, 2], [0x77, 0x400, 3]])
    #expect(e.mtu == 496 && pair.host.mtu == 496)
  }

  @Test func messageLongerThanTheMTUIsRefusedAndNothingElseMoves() throws {
    let pair = try startedPair()
    let got = Collector<Int>()
    let sink = try pair.remote.createEndpoint { m in got.append(m.count) }
    let e = try pair.host.createEndpoint(destination: sink.address) { _ in }
    try e.trySend([UInt8](repeating: 1, count: 496))  // exactly the MTU is fine
    do {
      try e.trySend([UInt8](repeating: 1, count: 497))
      Issue.record("sent 497 bytes")
    } catch {
      #expect(error.code == .messageTooLong)
      #expect(error.message == "payload of 497 bytes exceeds the MTU of 496")
    }
    try e.trySend([9])
    #expect(got.all == [496, 1])
    #expect(pair.host.counters.sent == 2)
  }

  @Test func sendToAnyIsRefused() throws {
    let pair = try startedPair()
    let unbound = try pair.host.createEndpoint { _ in }  // destination .any
    for attempt in 0..<3 {
      do {
        switch attempt {
        case 0: try unbound.trySend([1])
        case 1: try unbound.trySend([1], to: .any)
        default: try unbound.trySend([1], from: .any, to: EndpointAddress(0x400))
        }
        Issue.record("sent with RPMSG_ADDR_ANY")
      } catch {
        #expect(error.code == .invalidAddress)
      }
    }
    #expect(pair.host.counters.sent == 0)
  }

  @Test func destroyedEndpointRefusesSendsAndGetsNoMoreMessages() throws {
    let pair = try startedPair()
    let got = Collector<Int>()
    let sink = try pair.remote.createEndpoint(address: EndpointAddress(0x400)) { m in got.append(m.count) }
    let e = try pair.host.createEndpoint(destination: sink.address) { _ in }
    try e.trySend([1])
    sink.destroy()
    try e.trySend([1, 2])  // reaches no endpoint: dropped and counted by the remote
    #expect(got.all == [1])
    #expect(pair.remote.counters.droppedNoEndpoint == 1)
    e.destroy()
    #expect(throws: RPMsgError.self) { try e.trySend([1]) }
  }

  @Test func asyncMessagesArriveInOrder() async throws {
    let pair = try startedPair()
    let inbox = try pair.host.createEndpoint(address: EndpointAddress(0x600))
    let sender = try pair.remote.createEndpoint(destination: inbox.address) { _ in }
    for i in 0..<5 { try sender.trySend([UInt8(i)]) }
    var seen: [[UInt8]] = []
    for try await m in inbox.messages {
      seen.append(m.payload)
      #expect(m.source == sender.address)
      if seen.count == 5 { break }
    }
    #expect(seen == [[0], [1], [2], [3], [4]])
  }

  @Test func asyncQueueOverflowIsDroppedAndCounted() throws {
    let pair = try startedPair()
    let inbox = try pair.host.createEndpoint(bufferLimit: 2)
    let sender = try pair.remote.createEndpoint(destination: inbox.address) { _ in }
    for _ in 0..<5 { try sender.trySend([1]) }
    #expect(pair.host.counters.droppedQueueFull == 3)
    #expect(pair.host.counters.received == 5)
  }

  @Test func callbackMaySendCreateAndDestroyEndpoints() throws {
    let pair = try startedPair()
    let made = Collector<EndpointAddress>()
    let sink = try pair.remote.createEndpoint(address: EndpointAddress(0x400)) { m in
      // Inside the receive path: create, send from, and destroy an endpoint.
      if let e = try? pair.remote.createEndpoint(destination: m.source, receive: { _ in }) {
        made.append(e.address)
        try? e.trySend([42])
        e.destroy()
      }
    }
    let got = Collector<RPMsgMessage>()
    let e = try pair.host.createEndpoint(destination: sink.address) { m in
      got.append(RPMsgMessage(source: m.source, destination: m.destination, payload: m.payload))
    }
    try e.trySend([1])
    try e.trySend([2])
    #expect(made.all.count == 2)
    #expect(got.all.map(\.payload) == [[42], [42]])
  }
}
