import RPMsg
import Synchronization
import Testing

/// Channel observers and the traffic tap (what rprocd's sysfs tree and captures use).
@Suite struct RPMsgObserverTests {
  static func describe(_ event: RPMsgChannelEvent) -> String {
    switch event {
    case .added(let c): "added \(c.name) \(c.endpoint.address.rawValue)→\(c.destination.rawValue)"
    case .removed(let c, let reason): "removed \(c.name) \(reason)"
    }
  }

  @Test func observersSeeChannelsComeAndGoInOrder() throws {
    let pair = try startedPair()
    let seen = Collector<String>()
    let driver = RecordingDriver(["rpmsg-demo"])
    pair.host.register(driver)
    // The observer runs before the driver is probed, so it sees the channel first.
    pair.host.observeChannels { event in
      seen.append(Self.describe(event) + " probes:\(driver.events.count)")
    }
    let service = try pair.remote.createEndpoint(name: "rpmsg-demo", address: EndpointAddress(0x400),
                                                 announce: true) { _ in }
    _ = try pair.remote.createEndpoint(name: "rpmsg-tty", address: EndpointAddress(0x401),
                                       announce: true) { _ in }
    service.destroy()
    #expect(seen.all == [
      "added rpmsg-demo 1024→1024 probes:0",
      "added rpmsg-tty 1025→1025 probes:1",
      "removed rpmsg-demo serviceDestroyed probes:2",
    ])
    pair.reset()
    #expect(seen.all.last == "removed rpmsg-tty reset probes:2")
    #expect(seen.count == 4)
  }

  @Test func aRemovedObserverHearsNothingMore() throws {
    let pair = try startedPair()
    let seen = Collector<String>()
    let observation = pair.host.observeChannels { seen.append(Self.describe($0)) }
    _ = try pair.remote.createEndpoint(name: "a", address: EndpointAddress(0x400), announce: true) { _ in }
    pair.host.removeChannelObserver(observation)
    _ = try pair.remote.createEndpoint(name: "b", address: EndpointAddress(0x401), announce: true) { _ in }
    #expect(seen.all == ["added a 1024→1024"])
  }

  @Test func theTapSeesBothDirectionsInOrderUntilRemoved() async throws {
    let pair = try startedPair()
    let records = Collector<RPMsgTapRecord>()
    _ = try pair.remote.createEndpoint(name: "echo", address: EndpointAddress(0x400)) { m in
      try? pair.remote.endpoint(at: EndpointAddress(0x400))?.trySend(m.payload.reversed(), to: m.source)
    }
    let replies = Collector<[UInt8]>()
    let local = try pair.host.createEndpoint(destination: EndpointAddress(0x400)) { replies.append($0.payload) }
    #expect(!pair.host.isTapped)
    try local.trySend([1, 2, 3])  // before the tap: not seen
    pair.host.setTap { records.append($0) }
    #expect(pair.host.isTapped)
    try local.trySend([4, 5])
    let buffer = try local.borrowBuffer()  // the zero-copy path is tapped too
    buffer.withPayload { payload in
      payload[0] = 9
    }
    try buffer.send(count: 1, to: EndpointAddress(0x400))
    pair.host.setTap(nil)
    try local.trySend([6])
    #expect(replies.all == [[3, 2, 1], [5, 4], [9], [6]])
    let seen = records.all.map {
      "\($0.direction) \($0.source.rawValue)→\($0.destination.rawValue) \($0.payload)"
    }
    #expect(seen == [
      "sent 1024→1024 [4, 5]", "received 1024→1024 [5, 4]",
      "sent 1024→1024 [9]", "received 1024→1024 [9]",
    ])
    let times = records.all.map(\.time)
    #expect(times == times.sorted())
  }

  @Test func theTapSeesNameServiceMessages() throws {
    let pair = try startedPair()
    let records = Collector<RPMsgTapRecord>()
    pair.host.setTap { records.append($0) }
    _ = try pair.remote.createEndpoint(name: "svc", address: EndpointAddress(0x420), announce: true) { _ in }
    let record = try #require(records.all.first)
    #expect(record.direction == .received)
    #expect(record.destination == .nameService)
    #expect(record.payload.count == 40)
    #expect(Array(record.payload.prefix(3)) == Array("svc".utf8))
  }
}
