import RPMsg
import Synchronization
import Testing

@Suite struct RPMsgResetTests {
  @Test func resetKillsEndpointsTellsUsersAndChannelsComeBackAfterRestart() async throws {
    let pair = try startedPair(vringCount: 16)
    let driver = RecordingDriver(["svc"])
    pair.host.register(driver)
    _ = try pair.remote.createEndpoint(name: "svc", address: EndpointAddress(0x400),
                                       announce: true) { _ in }
    let resets = Collector<RPMsgError.Code>()
    let plain = try pair.host.createEndpoint(destination: EndpointAddress(0x400),
                                             onReset: { resets.append($0.code) }) { _ in }
    let inbox = try pair.host.createEndpoint()
    #expect(driver.events.all == ["probe svc 1024"])

    pair.reset(reason: "remote crashed")
    #expect(pair.resource.status.rawValue == 0)  // the host reset the vdev
    #expect(!pair.host.isRunning)
    #expect(resets.all == [.reset])
    #expect(driver.events.all.last == "remove svc reset")
    #expect(pair.host.channels.isEmpty)
    for attempt in 0..<2 {
      do {
        if attempt == 0 { try plain.trySend([1]) } else { try await plain.send([1]) }
        Issue.record("sent on a dead endpoint")
      } catch {
        #expect(error.code == .reset)
      }
    }
    do {
      for try await _ in inbox.messages {}
      Issue.record("the sequence ended without an error")
    } catch let error as RPMsgError {
      #expect(error.code == .reset)
    }

    // The firmware restarts and announces again: the channel comes back.
    try pair.start()
    _ = try pair.remote.createEndpoint(name: "svc", address: EndpointAddress(0x400),
                                       announce: true) { _ in }
    #expect(driver.events.all.last == "probe svc 1024")
    try #require(pair.host.channels.first).trySend([5])
  }

  @Test func pendingBlockingSendFailsOnReset() async throws {
    let pair = try startedPair(vringCount: 16, kicks: .manual)
    let e = try pair.host.createEndpoint(destination: EndpointAddress(0x400)) { _ in }
    while (try? e.trySend([1])) != nil {}
    let task = Task { try await e.send([1]) }
    try await Task.sleep(for: .milliseconds(5))
    pair.reset()
    do {
      try await task.value
      Issue.record("sent after a reset")
    } catch let error as RPMsgError {
      #expect(error.code == .reset)
    }
  }

  @Test func heldAndBorrowedBuffersBecomeInertAfterReset() throws {
    let pair = try startedPair(vringCount: 16)
    let held = Mutex<RPMsgHeldMessage?>(nil)
    let inbox = try pair.host.createEndpoint { m in held.withLock { $0 = m.hold() } }
    let sender = try pair.remote.createEndpoint(destination: inbox.address) { _ in }
    try sender.trySend([1])
    let out = try sender.borrowBuffer()
    pair.reset()
    held.withLock { $0.take() }?.release()  // nothing to give back: no trap, no effect
    do {
      try out.send(count: 1)
      Issue.record("sent a stale buffer")
    } catch {
      #expect(error.code == .reset)
    }
    try pair.start()
    #expect(pair.host.counters.dropped == 0)
  }

  @Test func resetFromInsideACallbackHappensWhenItReturns() throws {
    let pair = try startedPair(vringCount: 16)
    let inbox = try pair.host.createEndpoint { _ in pair.host.reset(reason: "driver gave up") }
    let sender = try pair.remote.createEndpoint(destination: inbox.address) { _ in }
    try sender.trySend([1])
    #expect(!pair.host.isRunning)
    #expect(!inbox.isAlive)
  }
}
