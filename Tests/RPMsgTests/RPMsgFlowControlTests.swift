import RPMsg
import Synchronization
import Testing

/// Buffers running out: try-send, blocking send (timeout, cancellation), the writability
/// signal, zero-copy transmit and held receive buffers.
@Suite struct RPMsgFlowControlTests {
  /// A pair whose kicks are delivered only by `pump()`, and a host endpoint aimed at a remote
  /// sink; the host has 16 transmit buffers.
  func stalledPair() throws -> (RPMsgLoopback, RPMsgEndpoint, Collector<Int>) {
    let pair = try startedPair(vringCount: 16, kicks: .manual)
    let got = Collector<Int>()
    let sink = try pair.remote.createEndpoint(address: EndpointAddress(0x400)) { m in got.append(m.count) }
    let e = try pair.host.createEndpoint(destination: sink.address) { _ in }
    return (pair, e, got)
  }

  func fill(_ e: RPMsgEndpoint) -> Int {
    var n = 0
    while n < 1000, (try? e.trySend([1])) != nil { n += 1 }
    return n
  }

  @Test func trySendFailsAtOnceWhenBuffersRunOut() throws {
    let (pair, e, got) = try stalledPair()
    #expect(fill(e) == 16)
    do {
      try e.trySend([1])
      Issue.record("sent without a buffer")
    } catch {
      #expect(error.code == .noBuffer)
    }
    pair.pump()
    #expect(got.count == 16)
    #expect(fill(e) == 16)  // reclaimed from the used ring
  }

  @Test func blockingSendTimesOut() async throws {
    let (_, e, _) = try stalledPair()
    _ = fill(e)
    do {
      try await e.send([1], timeout: .milliseconds(20))
      Issue.record("sent without a buffer")
    } catch {
      #expect(error.code == .timedOut)
    }
  }

  @Test func blockingSendIsCancelled() async throws {
    let (_, e, _) = try stalledPair()
    _ = fill(e)
    let task = Task { try await e.send([1]) }  // 15 s default
    try await Task.sleep(for: .milliseconds(5))
    task.cancel()
    do {
      try await task.value
      Issue.record("sent without a buffer")
    } catch let error as RPMsgError {
      #expect(error.code == .cancelled)
    }
  }

  @Test func blockingSendCompletesWhenThePeerFreesBuffers() async throws {
    let (pair, e, got) = try stalledPair()
    _ = fill(e)
    let task = Task { try await e.send([7, 7]) }
    try await Task.sleep(for: .milliseconds(5))
    pair.pump()  // the remote consumes, returns buffers, and kicks (tx-complete enabled)
    try await task.value
    pair.pump()
    #expect(got.all.last == 2)
  }

  @Test func writabilitySignalFiresOnceBuffersComeBack() throws {
    let (pair, e, _) = try stalledPair()
    _ = fill(e)
    let outcomes = Collector<RPMsgWaitOutcome>()
    pair.host.whenWritable { outcomes.append($0) }
    #expect(outcomes.all.isEmpty)
    pair.pump()
    #expect(outcomes.all == [.writable])
    pair.host.whenWritable { outcomes.append($0) }  // writable now: called at once
    #expect(outcomes.all == [.writable, .writable])
  }

  @Test func zeroCopySendAndRelease() throws {
    let (pair, e, got) = try stalledPair()
    let buffer = try e.borrowBuffer()
    #expect(buffer.capacity == 496)
    buffer.withPayload { span in
      for i in 0..<span.count { span[i] = UInt8(truncatingIfNeeded: i) }
    }
    try buffer.send(count: 496)
    pair.pump()
    #expect(got.all == [496])
    // Released buffers are reused; dropping one releases it too.
    let unused = try e.borrowBuffer()
    unused.release()
    do { _ = try e.borrowBuffer() }
    #expect(fill(e) == 16)
  }

  @Test func zeroCopyBuffersCountAgainstThePool() throws {
    let (pair, e, _) = try stalledPair()
    var borrowed: [Int] = []
    let first = try e.borrowBuffer()
    borrowed.append(first.capacity)
    #expect(fill(e) == 15)
    let outcomes = Collector<RPMsgWaitOutcome>()
    pair.host.whenWritable { outcomes.append($0) }
    first.release()  // gives the buffer back: writers wake
    #expect(outcomes.all == [.writable])
    try e.trySend([1])
    #expect(borrowed == [496])
  }

  @Test func zeroCopySendRejectsOversizeAndAny() throws {
    let (_, e, _) = try stalledPair()
    let b = try e.borrowBuffer()
    do {
      try b.send(count: 497)
      Issue.record("sent 497 bytes")
    } catch {
      #expect(error.code == .messageTooLong)
    }
    let c = try e.borrowBuffer()
    do {
      try c.send(count: 1, to: .any)
      Issue.record("sent to RPMSG_ADDR_ANY")
    } catch {
      #expect(error.code == .invalidAddress)
    }
    #expect(fill(e) == 16)  // both buffers came back
  }

  @Test func heldReceiveBufferIsNotReusedUntilReleased() throws {
    let pair = try startedPair(vringCount: 16, kicks: .manual)
    let held = Mutex<RPMsgHeldMessage?>(nil)
    let inbox = try pair.host.createEndpoint(address: EndpointAddress(0x600)) { m in
      if m.count == 3 {
        held.withLock { $0 = m.hold() }
        let again = m.hold()
        let heldTwice: Bool
        if again != nil { heldTwice = true } else { heldTwice = false }
        #expect(!heldTwice)
      }
    }
    let sender = try pair.remote.createEndpoint(destination: inbox.address) { _ in }
    try sender.trySend([1, 2, 3])
    pair.pump()
    #expect(held.withLock { $0?.payload } == [1, 2, 3])
    #expect(held.withLock { $0?.source } == sender.address)
    // The remote can fill 15 of the host's 16 receive buffers while one is held.
    var sent = 0
    while sent < 100, (try? sender.trySend([9])) != nil { sent += 1 }
    #expect(sent == 15)
    pair.pump()
    held.withLock { $0.take() }?.release()
    sent = 0
    while sent < 100, (try? sender.trySend([9])) != nil { sent += 1 }
    #expect(sent == 16)
  }
}
