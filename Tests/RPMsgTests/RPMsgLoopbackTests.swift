import RPMsg
import SharedMemory
import Testing
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
