import RPMsg
import Synchronization
import Testing
import Virtio

/// A driver that records what happens to it and echoes nothing.
final class RecordingDriver: RPMsgDriver {
  let serviceNames: [String]
  let events = Collector<String>()
  let messages = Collector<[UInt8]>()
  let refuse: Bool
  init(_ names: [String], refuse: Bool = false) {
    serviceNames = names
    self.refuse = refuse
  }
  func probe(_ channel: RPMsgChannel) throws(RPMsgError) {
    events.append("probe \(channel.name) \(channel.destination.rawValue)")
    if refuse { throw RPMsgError(.invalidArgument, "refused") }
  }
  func receive(_ message: inout RPMsgReceivedMessage, on channel: RPMsgChannel) {
    messages.append(message.payload)
  }
  func remove(_ channel: RPMsgChannel, reason: RPMsgRemovalReason) {
    events.append("remove \(channel.name) \(reason)")
  }
}

@Suite struct RPMsgNameServiceTests {
  @Test func announcementCreatesAChannelAndBindsTheMatchingDriver() throws {
    let pair = try startedPair()
    let driver = RecordingDriver(["rpmsg-demo"])
    pair.host.register(driver)
    let service = try pair.remote.createEndpoint(name: "rpmsg-demo", address: EndpointAddress(0x400),
                                                 announce: true) { m in
      try? pair.remote.endpoint(at: EndpointAddress(0x400))?.trySend(m.payload.reversed(), to: m.source)
    }
    #expect(driver.events.all == ["probe rpmsg-demo 1024"])
    let channel = try #require(pair.host.channels.first)
    #expect(channel.name == "rpmsg-demo")
    #expect(channel.destination == service.address)
    #expect(channel.endpoint.address.rawValue == 1024)  // the default endpoint, dynamic
    try channel.trySend([1, 2, 3])
    #expect(driver.messages.all == [[3, 2, 1]])
    // The remote's destroy announcement removes the channel and its endpoint.
    service.destroy()
    #expect(driver.events.all == ["probe rpmsg-demo 1024", "remove rpmsg-demo serviceDestroyed"])
    #expect(pair.host.channels.isEmpty)
    #expect(pair.host.endpoint(at: EndpointAddress(1024)) == nil)
  }

  @Test func unknownNamesReachTheBindCallbackAndALaterDriverBinds() throws {
    let pair = try startedPair()
    let unbound = Collector<RPMsgAnnouncement>()
    pair.host.onUnboundService { unbound.append($0) }
    _ = try pair.remote.createEndpoint(name: "mystery", address: EndpointAddress(0x410),
                                       announce: true) { _ in }
    #expect(unbound.all == [RPMsgAnnouncement(name: "mystery", address: EndpointAddress(0x410))])
    #expect(pair.host.channels.map(\.name) == ["mystery"])
    let late = RecordingDriver(["mystery"])
    pair.host.register(late)
    #expect(late.events.all == ["probe mystery 1040"])
    pair.host.unregister(late)
    #expect(late.events.all.last == "remove mystery driverUnregistered")
  }

  @Test func hostAnnouncementsReachTheRemoteAndBindItsEndpoint() throws {
    let pair = try startedPair()
    // OpenAMP style: the remote has an endpoint named like the host's service, unbound.
    let remoteSide = try pair.remote.createEndpoint(name: "host-svc") { _ in }
    #expect(remoteSide.destination == .any)
    let hostSide = try pair.host.createEndpoint(name: "host-svc", address: EndpointAddress(0x700),
                                                announce: true) { _ in }
    #expect(remoteSide.destination == hostSide.address)
    hostSide.destroy()
    #expect(remoteSide.destination == .any)
  }

  @Test func announcementsWaitForTheBusToStart() throws {
    let pair = try RPMsgLoopback(vringCount: 16)
    let driver = RecordingDriver(["early"])
    pair.host.register(driver)
    _ = try pair.remote.createEndpoint(name: "early", announce: true) { _ in }
    #expect(driver.events.all.isEmpty)
    try pair.start()
    #expect(driver.events.all.count == 1)
  }

  @Test func withoutTheNameServiceFeatureNothingIsAnnounced() throws {
    let pair = try startedPair(features: [.eventIndex])
    #expect(!pair.host.hasNameService && !pair.remote.hasNameService)
    let driver = RecordingDriver(["svc"])
    pair.host.register(driver)
    _ = try pair.remote.createEndpoint(name: "svc", announce: true) { _ in }
    #expect(driver.events.all.isEmpty)
    #expect(pair.host.endpoint(at: .nameService) == nil)
  }

  @Test func duplicateAnnouncementAndUnknownDestroyAreRejectedAndCounted() throws {
    let pair = try startedPair()
    let driver = RecordingDriver(["svc"])
    pair.host.register(driver)
    let raw = try pair.remote.createEndpoint(address: EndpointAddress(0x400)) { _ in }
    let create = RPMsgWire.nameServiceMessage(name: "svc", address: EndpointAddress(0x400),
                                              destroy: false, order: .little)
    try raw.trySend(create, to: .nameService)
    try raw.trySend(create, to: .nameService)
    let destroy = RPMsgWire.nameServiceMessage(name: "nope", address: EndpointAddress(0x400),
                                               destroy: true, order: .little)
    try raw.trySend(destroy, to: .nameService)
    #expect(driver.events.all.count == 1)
    #expect(pair.host.counters.rejectedAnnouncements == 2)
  }

  @Test func malformedNameServiceMessagesAreDroppedAndCounted() throws {
    let lines = Collector<String>()
    let pair = try RPMsgLoopback(vringCount: 16, log: { lines.append($0) })
    try pair.start()
    let driver = RecordingDriver(["svc"])
    pair.host.register(driver)
    let raw = try pair.remote.createEndpoint(address: EndpointAddress(0x400)) { _ in }
    let good = RPMsgWire.nameServiceMessage(name: "svc", address: EndpointAddress(0x400),
                                            destroy: false, order: .little)
    try raw.trySend(Array(good.prefix(39)), to: .nameService)  // wrong size
    try raw.trySend(good + [0], to: .nameService)  // wrong size
    var unterminated = good
    for i in 0..<32 { unterminated[i] = UInt8(ascii: "s") }
    try raw.trySend(unterminated, to: .nameService)  // no NUL
    #expect(pair.host.counters.droppedMalformedNameService == 3)
    #expect(lines.all.contains("malformed ns msg from 0x400: wrongSize(39)"))
    #expect(lines.all.contains("malformed ns msg from 0x400: missingTerminator"))
    #expect(driver.events.all.isEmpty)
    // The bus still works: a good one binds.
    try raw.trySend(good, to: .nameService)
    #expect(driver.events.all == ["probe svc 1024"])
  }

  @Test func refusedProbeLeavesTheChannelUnbound() throws {
    let pair = try startedPair()
    let driver = RecordingDriver(["svc"], refuse: true)
    pair.host.register(driver)
    _ = try pair.remote.createEndpoint(name: "svc", announce: true) { _ in }
    #expect(driver.events.all.count == 1)
    #expect(pair.host.channels.first?.driver == nil)
  }
}
