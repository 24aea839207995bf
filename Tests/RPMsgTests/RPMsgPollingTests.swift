import RPMsg
import Testing
import Virtio

/// The host's receive vring watched by a poller (``RPMsgBus/startPolling()``): the remote
/// publishes without kicking, the poller sees it in `used.idx`, and ``stopPolling()`` asks for
/// kicks again without losing a message published meanwhile.
@Suite struct RPMsgPollingTests {
  @Test(arguments: [[VirtioFeatures.rpmsgNameService, .eventIndex], [.rpmsgNameService]] as [VirtioFeatures])
  func aPolledHostIsNotKickedAndMissesNothing(features: VirtioFeatures) throws {
    let pair = try startedPair(features: features, hostFeatures: features, kicks: .manual)
    let remote = try pair.remote.createEndpoint(address: EndpointAddress(0x400)) { _ in }
    let got = Collector<[UInt8]>()
    let client = try pair.host.createEndpoint(destination: remote.address) { got.append($0.payload) }
    let watch = try #require(pair.host.receiveWatch())
    #expect(!watch.hasWork())

    pair.host.startPolling()
    try remote.trySend([1], to: client.address)
    pair.pump()  // no kick reached the host: the message waits in the ring
    #expect(got.all.isEmpty)
    #expect(watch.hasWork())
    pair.host.handleKick(vring: 0)  // what the poller does when it sees work
    #expect(got.all == [[1]])
    #expect(!watch.hasWork())

    // Going to sleep with a message published meanwhile: stopPolling reports it.
    try remote.trySend([2], to: client.address)
    #expect(pair.host.stopPolling())
    pair.host.handleKick(vring: 0)
    #expect(got.all == [[1], [2]])

    // Asleep: the next message kicks again.
    #expect(!pair.host.stopPolling())
    try remote.trySend([3], to: client.address)
    pair.pump()
    #expect(got.all == [[1], [2], [3]])

    // Polling again, for longer than a lap of the ring: still no kick, nothing lost.
    pair.host.startPolling()
    for i in 0..<40 {
      try remote.trySend([UInt8(i)], to: client.address)
      pair.pump()
      #expect(got.count == 3 + i)
      #expect(watch.hasWork())
      pair.host.handleKick(vring: 0)
    }
    #expect(got.count == 43)
    #expect(pair.host.transportError == nil && pair.remote.transportError == nil)
  }

  /// A polled host posts the buffers it took back without publishing each one: `avail.idx`
  /// moves every 16 buffers, or as soon as fewer than half are left to the remote, and
  /// ``stopPolling()`` publishes the rest (kicking a remote that waits for them).
  @Test func aPolledHostPublishesItsBuffersSixteenAtATime() throws {
    let pair = try startedPair(vringCount: 256, kicks: .manual)
    let remote = try pair.remote.createEndpoint(address: EndpointAddress(0x400)) { _ in }
    let got = Collector<[UInt8]>()
    let client = try pair.host.createEndpoint(destination: remote.address) { got.append($0.payload) }
    let ring = pair.vringMemory[0].region
    let availIndex = 16 * 256 + 2
    func published() throws -> UInt16 { try ring.load(UInt16.self, at: availIndex, order: .little) }
    #expect(try published() == 256)

    pair.host.startPolling()
    for i in 1...40 {
      try remote.trySend([UInt8(i)], to: client.address)
      pair.host.handleKick(vring: 0)
      #expect(try published() == 256 + UInt16(i / 16 * 16), "after \(i)")
    }
    #expect(got.count == 40)
    // 200 more without the host taking any: the remote uses all 256 - 8 it can see, then
    // waits; the host drains them, publishing as it goes, and nothing stalls.
    var sent = 0
    while (try? remote.trySend([0], to: client.address)) != nil { sent += 1 }
    #expect(sent == 256 - 8)
    pair.host.handleKick(vring: 0)
    #expect(got.count == 40 + sent)
    #expect(try published() == 256 + UInt16(40 + sent))  // fewer than half were left: all published
    try remote.trySend([1], to: client.address)
    pair.host.handleKick(vring: 0)
    #expect(try published() == 256 + UInt16(40 + sent))  // one taken back and not yet published
    #expect(!pair.host.stopPolling())
    #expect(try published() == 256 + UInt16(41 + sent))
    #expect(pair.host.transportError == nil && pair.remote.transportError == nil)
  }

  @Test func aRemoteBusHasNoReceiveWatch() throws {
    let pair = try startedPair()
    #expect(pair.remote.receiveWatch() == nil)
    #expect(!pair.remote.stopPolling())
    pair.reset()
    #expect(pair.host.receiveWatch() == nil)
    #expect(!pair.host.stopPolling())
  }
}
