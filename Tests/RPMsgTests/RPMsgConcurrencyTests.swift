import RPMsg
import Synchronization
import Testing

/// Real threads: several senders at once, kicks delivered on whichever thread sent, the
/// receive path entered concurrently from both sides.
@Suite struct RPMsgConcurrencyTests {
  @Test func concurrentSendersAndEchoesLoseNothing() async throws {
    let pair = try startedPair(vringCount: 16)  // immediate kicks: re-entrant, multi-threaded
    let echo = try pair.remote.createEndpoint(address: EndpointAddress(0x400)) { m in
      let reply = m.payload
      // Inside the remote's receive path, on some sender's thread.
      if (try? pair.remote.endpoint(at: EndpointAddress(0x400))?.trySend(reply, to: m.source)) == nil {
        Issue.record("echo could not send")
      }
    }
    let senders = 4, perSender = 500
    let got = Mutex<[UInt32: Int]>([:])
    var clients: [RPMsgEndpoint] = []
    for _ in 0..<senders {
      clients.append(try pair.host.createEndpoint(destination: echo.address) { m in
        got.withLock { $0[m.destination.rawValue, default: 0] += 1 }
      })
    }
    try await withThrowingTaskGroup(of: Void.self) { group in
      for client in clients {
        group.addTask {
          for i in 0..<perSender {
            try await client.send([UInt8(truncatingIfNeeded: i)], timeout: .seconds(30))
          }
        }
      }
      try await group.waitForAll()
    }
    // Every message was sent; echoes may still be in flight on the last kicks.
    pair.host.handleKick()
    pair.remote.handleKick()
    let counts = got.withLock { $0 }
    #expect(counts.values.reduce(0, +) == senders * perSender)
    #expect(counts.values.allSatisfy { $0 == perSender })
    #expect(pair.remote.counters.received == UInt64(senders * perSender))
    #expect(pair.host.transportError == nil && pair.remote.transportError == nil)
    #expect(pair.host.counters.dropped == 0 && pair.remote.counters.dropped == 0)
  }

  @Test func destroyFromAnotherThreadWaitsForARunningCallback() async throws {
    let pair = try startedPair(vringCount: 16)
    let inside = Atomic<Int>(0)
    let afterDestroy = Atomic<Int>(0)
    let destroyed = Atomic<Bool>(false)
    let sink = try pair.remote.createEndpoint(address: EndpointAddress(0x400)) { _ in
      inside.add(1, ordering: .relaxed)
      if destroyed.load(ordering: .acquiring) { afterDestroy.add(1, ordering: .relaxed) }
    }
    let e = try pair.host.createEndpoint(destination: sink.address) { _ in }
    let sender = Task.detached {
      for _ in 0..<2000 { _ = try? e.trySend([1]) }
    }
    try await Task.sleep(for: .milliseconds(1))
    sink.destroy()
    destroyed.store(true, ordering: .releasing)
    _ = await sender.value
    #expect(afterDestroy.load(ordering: .relaxed) == 0)  // no callback after destroy returned
    #expect(!sink.isAlive)
  }
}
