import RPMsg
import RPMsgDrivers
import Synchronization
import Testing

/// A remote service that answers each message with `transform(payload)`, announced by name.
@discardableResult
func remoteService(
  _ pair: RPMsgLoopback, name: String, address: UInt32,
  transform: @escaping @Sendable ([UInt8]) -> [UInt8]
) throws -> RPMsgEndpoint {
  try pair.remote.createEndpoint(name: name, address: EndpointAddress(address), announce: true) { m in
    let reply = transform(m.payload)
    try? pair.remote.endpoint(at: EndpointAddress(address))?.trySend(reply, to: m.source)
  }
}

func pair(_ drivers: [any RPMsgDriver], vringCount: Int = 16) throws -> RPMsgLoopback {
  let p = try RPMsgLoopback(vringCount: vringCount)
  for d in drivers { p.host.register(d) }
  try p.start()
  return p
}

@Suite struct RPMsgClientSampleDriverTests {
  @Test func hundredRoundTripsThenGoodbye() async throws {
    let lines = Mutex<[String]>([])
    let driver = RPMsgClientSampleDriver(log: { l in lines.withLock { $0.append(l) } })
    let p = try pair([driver])
    try remoteService(p, name: "rpmsg-client-sample", address: 0x400) { $0 }  // OpenAMP echo
    var finished = driver.finished.makeAsyncIterator()
    let report = await finished.next()
    #expect(report == RPMsgClientSampleReport(remote: EndpointAddress(0x400), sent: 100,
                                              received: 100, mismatches: 0, finished: true))
    #expect(lines.withLock { $0.first } == "new channel: 0x400 -> 0x400")
    #expect(lines.withLock { $0.contains("goodbye!") })
    #expect(p.host.counters.sent == 100)
  }

  @Test func mismatchedEchoesAreReported() throws {
    let driver = RPMsgClientSampleDriver(rounds: 10)
    let p = try pair([driver])
    try remoteService(p, name: "rpmsg-client-sample", address: 0x400) { $0.reversed() }
    #expect(driver.reports == [RPMsgClientSampleReport(remote: EndpointAddress(0x400), sent: 10,
                                                        received: 10, mismatches: 10, finished: true)])
  }
}

@Suite struct RPMsgTTYDriverTests {
  @Test func byteStreamBothWaysSplitAtTheMTU() async throws {
    let opened = Mutex<[RPMsgTTYPort]>([])
    let driver = RPMsgTTYDriver { port in opened.withLock { $0.append(port) } }
    let p = try pair([driver])
    let sizes = Mutex<[Int]>([])
    try remoteService(p, name: "rpmsg-tty", address: 0x401) { bytes in
      sizes.withLock { $0.append(bytes.count) }
      return bytes.map { $0 >= 0x61 && $0 <= 0x7A ? $0 - 0x20 : $0 }
    }
    let port = try #require(opened.withLock { $0.first })
    #expect(driver.openPorts.count == 1)
    let text = Array(String(repeating: "tty ", count: 300).utf8)  // 1200 bytes
    try await port.write(text)
    #expect(sizes.withLock { $0 } == [496, 496, 208])
    var got: [UInt8] = []
    for await chunk in port.input {
      got += chunk
      if got.count == text.count { break }
    }
    #expect(got == Array(String(repeating: "TTY ", count: 300).utf8))
  }

  @Test func tryWriteStopsWhenBuffersRunOut() throws {
    let driver = RPMsgTTYDriver()
    let p = try RPMsgLoopback(vringCount: 16, kicks: .manual)
    p.host.register(driver)
    try p.start()
    _ = try p.remote.createEndpoint(name: "rpmsg-tty", address: EndpointAddress(0x401),
                                    announce: true) { _ in }
    p.pump()
    let port = try #require(driver.openPorts.first)
    #expect(try port.tryWrite([UInt8](repeating: 1, count: 20 * 496)) == 16 * 496)
    #expect(try port.tryWrite([1]) == 0)
  }

  @Test func portClosesWhenTheRemoteGoes() async throws {
    let driver = RPMsgTTYDriver()
    let p = try pair([driver])
    let service = try remoteService(p, name: "rpmsg-tty", address: 0x401) { $0 }
    let port = try #require(driver.openPorts.first)
    service.destroy()
    #expect(!port.isOpen)
    for await _ in port.input { Issue.record("input after close") }
    #expect(driver.openPorts.isEmpty)
  }
}

@Suite struct RPMsgRawDriverTests {
  @Test func wholeMessagesBothWays() async throws {
    let driver = RPMsgRawDriver()
    let p = try pair([driver])
    try remoteService(p, name: "rpmsg-raw", address: 0x402) { $0.reversed() }
    let endpoint = try #require(driver.openEndpoints.first)
    #expect(endpoint.mtu == 496)
    try await endpoint.send([1, 2, 3])
    try endpoint.trySend(Array(repeating: 9, count: 496))
    var got: [[UInt8]] = []
    for try await m in endpoint.messages {
      #expect(m.source == EndpointAddress(0x402))
      got.append(m.payload)
      if got.count == 2 { break }
    }
    #expect(got == [[3, 2, 1], Array(repeating: 9, count: 496)])
    #expect(throws: RPMsgError.self) { try endpoint.trySend(Array(repeating: 0, count: 497)) }
  }

  @Test func resetEndsTheMessagesWithAnError() async throws {
    let driver = RPMsgRawDriver()
    let p = try pair([driver])
    try remoteService(p, name: "rpmsg-raw", address: 0x402) { $0 }
    let endpoint = try #require(driver.openEndpoints.first)
    p.reset()
    do {
      for try await _ in endpoint.messages {}
      Issue.record("no error")
    } catch let error as RPMsgError {
      #expect(error.code == .reset)
    }
    // After the restart the firmware announces again and a new endpoint opens.
    try p.start()
    try remoteService(p, name: "rpmsg-raw", address: 0x402) { $0 }
    #expect(driver.openEndpoints.count == 1)
  }
}
