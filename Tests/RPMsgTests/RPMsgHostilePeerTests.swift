import RPMsg
import SharedMemory
import Synchronization
import Testing
import Virtio

/// A small deterministic generator (xorshift64*), so every run corrupts the same way.
struct Xorshift: RandomNumberGenerator {
  var state: UInt64
  mutating func next() -> UInt64 {
    state ^= state >> 12
    state ^= state << 25
    state ^= state >> 27
    return state &* 2_685_821_657_736_338_717
  }
}

/// The remote is not trusted (DESIGN §6): corrupt rings, headers and lengths while traffic
/// flows, and check that the host never traps, reports what it saw, and never touches
/// memory outside the shared region (guard pages around it keep their pattern).
@Suite struct RPMsgHostilePeerTests {
  /// Offsets (in the loopback's shared region, 16-entry vrings) worth corrupting.
  static func targets() -> [(offset: Int, width: Int)] {
    var t: [(Int, Int)] = []
    let vring0 = 0x1000, vring1 = 0x3000, pool = 0x5000, used = 0x1000  // used at +4096
    for v in [vring0, vring1] {
      t += [(v + used + 2, 2)]  // used.idx
      for i in 0..<16 { t += [(v + used + 4 + 8 * i, 4), (v + used + 8 + 8 * i, 4)] }  // id, len
      t += [(v + 256 + 2, 2)]  // avail.idx
      for i in 0..<16 { t += [(v + 256 + 4 + 2 * i, 2)] }  // avail.ring
      for i in 0..<16 { t += [(v + 16 * i, 8), (v + 16 * i + 8, 4), (v + 16 * i + 12, 2), (v + 16 * i + 14, 2)] }
      t += [(v + 256 + 4 + 32, 2), (v + used + 4 + 128, 2)]  // used_event, avail_event
    }
    for b in 0..<32 {  // rpmsg headers: src, dst, len
      t += [(pool + 512 * b, 4), (pool + 512 * b + 4, 4), (pool + 512 * b + 12, 2)]
    }
    return t
  }

  @Test(arguments: [1, 2, 3, 4] as [UInt64])
  func corruptionWhileTrafficFlowsNeverTrapsOrEscapesTheRegion(seed: UInt64) throws {
    let lines = Collector<String>()
    let pair = try RPMsgLoopback(vringCount: 16, kicks: .immediate, guardBytes: 4096,
                                 log: { lines.append($0) })
    try pair.start()
    let echoed = Collector<Int>()
    func endpoints() throws -> RPMsgEndpoint {
      let echo = try pair.remote.createEndpoint(address: EndpointAddress(0x400)) { m in
        try? pair.remote.endpoint(at: EndpointAddress(0x400))?.trySend(m.payload, to: m.source)
      }
      return try pair.host.createEndpoint(destination: echo.address) { m in
        echoed.append(m.count)
        _ = m.payload  // read every byte the header claims
      }
    }
    var client = try endpoints()
    var rng = Xorshift(state: seed &* 0x9E37_79B9_7F4A_7C15 | 1)
    let targets = Self.targets()
    var corruptions = 0
    var breaks: [String] = []
    for round in 0..<1500 {
      if let e = pair.host.transportError ?? pair.remote.transportError {
        // Seen and reported: reset as the core would on a crash, and go on.
        breaks.append(e.message)
        for _ in 0..<10 {  // a broken bus refuses or drops, never traps
          _ = try? client.trySend([1])
          pair.host.handleKick()
          pair.remote.handleKick()
        }
        pair.reset()
        try pair.start()
        client = try endpoints()
      }
      _ = try? client.trySend([UInt8](repeating: UInt8(truncatingIfNeeded: round), count: Int(rng.next() % 497)))
      if rng.next() % 4 == 0 {
        let t = targets[Int(rng.next() % UInt64(targets.count))]
        let value = rng.next()
        switch t.width {
        case 2: try pair.shared.store(UInt16(truncatingIfNeeded: value), at: t.offset, order: .little)
        case 4: try pair.shared.store(UInt32(truncatingIfNeeded: value), at: t.offset, order: .little)
        default: try pair.shared.store(value, at: t.offset, order: .little)
        }
        corruptions += 1
      }
      pair.host.handleKick()
      pair.remote.handleKick()
    }
    #expect(corruptions > 250)
    #expect(pair.guardsIntact())
    // The damage was seen: broken vrings with precise messages, and counted drops.
    let drops = pair.host.counters.dropped + pair.remote.counters.dropped
    #expect(breaks.count + Int(drops) > 3)
    #expect(breaks.allSatisfy { m in m.contains { $0.isNumber } })
    #expect(echoed.count > 100)  // traffic did flow between the faults
  }

  @Test func headerLongerThanItsBufferIsDroppedAndCounted() throws {
    let lines = Collector<String>()
    let pair = try RPMsgLoopback(vringCount: 16, kicks: .manual, log: { lines.append($0) })
    try pair.start()
    let got = Collector<Int>()
    let inbox = try pair.host.createEndpoint(address: EndpointAddress(0x600)) { m in got.append(m.count) }
    let sender = try pair.remote.createEndpoint(destination: inbox.address) { _ in }
    try sender.trySend([1, 2, 3])  // into host receive buffer 0 (pool at 0x5000), used len 19
    try pair.shared.store(UInt16(200), at: 0x5000 + 12, order: .little)  // len 200 > 3
    pair.pump()
    #expect(got.all.isEmpty)
    #expect(pair.host.counters.droppedBadLength == 1)
    #expect(lines.all.contains(
      "dropped a message: header len 200 exceeds its buffer's 3 payload bytes (from 0x400)"))
    // Nothing else was disturbed: the next message arrives.
    try sender.trySend([4])
    pair.pump()
    #expect(got.all == [1])
    #expect(pair.host.transportError == nil)
  }

  @Test func usedLengthBeyondTheBufferBreaksTheHostQueue() throws {
    let pair = try RPMsgLoopback(vringCount: 16, kicks: .manual, guardBytes: 4096)
    try pair.start()
    let inbox = try pair.host.createEndpoint { _ in }
    let sender = try pair.remote.createEndpoint(destination: inbox.address) { _ in }
    try sender.trySend([1])
    try pair.shared.store(UInt32(4096), at: 0x2000 + 8, order: .little)  // used[0].len
    pair.pump()
    #expect(pair.host.transportError?.message
            == "broken queue: used len 4096 for id 0 exceeds the 512 byte(s) offered")
    #expect(pair.guardsIntact())
  }

  @Test func hostileHostDescriptorsAreRefusedByTheRemote() throws {
    let pair = try RPMsgLoopback(vringCount: 16, kicks: .manual, guardBytes: 4096)
    try pair.start()
    _ = try pair.remote.createEndpoint(address: EndpointAddress(0x400)) { _ in }
    let e = try pair.host.createEndpoint(destination: EndpointAddress(0x400)) { _ in }
    try e.trySend([1])
    // Point the host's descriptor 0 (vring 1 at 0x3000) just past the shared region.
    try pair.shared.store(UInt64(0x1000_0000) + UInt64(pair.shared.count) - 8, at: 0x3000,
                          order: .little)
    pair.pump()
    let error = try #require(pair.remote.transportError)
    #expect(error.message.hasPrefix("address not mapped: descriptor 0 addr 0x"))
    #expect(pair.guardsIntact())
  }
}
