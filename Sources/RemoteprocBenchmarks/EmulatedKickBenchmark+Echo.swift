import RPMsg
import Remoteproc
import RemoteprocEmulated
import RemoteprocVirtio
import Synchronization

/// rpmsg-echo's `rpmsg-client-sample` endpoint, flooded from the owner thread.
final class EchoSession {
  let session: BenchmarkSession
  let flood: EchoFlood

  init(_ bench: EmulatedKickBenchmark, options: EmulatedCore.Options) async throws {
    let flood = EchoFlood(payload: bench.payload)
    self.flood = flood
    let drivers = RemoteprocVirtioDrivers(newBus: { _, _, bus in bus.register(flood) })
    session = try await BenchmarkSession(bench, example: "rpmsg-echo", options: options, drivers: drivers)
  }

  /// Seconds for `count` echoes with every transmit buffer in flight.
  func flood(_ count: Int) async throws -> Double {
    let flood = self.flood
    try await session.wait("the rpmsg-client-sample announcement", seconds: 10) {
      flood.state.withLock { $0.channel != nil }
    }
    flood.state.withLock { s in
      s.total = count
      s.sent = 0
      s.received = 0
      s.started = nil
      s.finished = nil
    }
    try session.platform.core.perform { flood.begin() }
    try await session.wait("\(count) echoes", seconds: 10 + count / 1000) {
      flood.state.withLock { $0.finished != nil || $0.failure != nil }
    }
    let (started, finished, failure) = flood.state.withLock { ($0.started, $0.finished, $0.failure) }
    if let failure { throw EmulatedKickBenchmark.Failure(failure) }
    guard let started, let finished else { throw EmulatedKickBenchmark.Failure("no echo timing") }
    return Double(nanoseconds(finished - started)) / 1e9
  }

  func close() async { await session.close() }
}

/// Sends `total` messages, keeping as many in flight as there are free buffers, and checks
/// every echo. Runs on the bus's receive path (the core's owner thread).
final class EchoFlood: RPMsgDriver {
  struct State: Sendable {
    var channel: RPMsgChannel?
    var total = 0
    var sent = 0
    var received = 0
    var started: ContinuousClock.Instant?
    var finished: ContinuousClock.Instant?
    var failure: String?
  }

  let serviceNames = ["rpmsg-client-sample"]
  let payload: [UInt8]
  let state = Mutex(State())

  init(payload: [UInt8]) {
    self.payload = payload
  }

  func probe(_ channel: RPMsgChannel) throws(RPMsgError) {
    state.withLock { $0.channel = channel }
  }

  func begin() {
    state.withLock { $0.started = ContinuousClock.now }
    fill()
  }

  /// Sends until every message is out or no buffer is free (then again once one is).
  func fill() {
    while true {
      let channel = state.withLock { s -> RPMsgChannel? in
        guard s.started != nil, s.sent < s.total, s.failure == nil else { return nil }
        s.sent += 1
        return s.channel
      }
      guard let channel else { return }
      do {
        try channel.trySend(payload)
      } catch where error.code == .noBuffer {
        state.withLock { $0.sent -= 1 }
        channel.bus.whenWritable { [weak self] outcome in
          if outcome == .writable { self?.fill() }
        }
        return
      } catch {
        state.withLock { $0.failure = "send: \(error)" }
        return
      }
    }
  }

  func receive(_ message: inout RPMsgReceivedMessage, on channel: RPMsgChannel) {
    let matches = message.withPayload { span in
      span.count == payload.count && (0..<span.count).allSatisfy { span[$0] == payload[$0] }
    }
    let now = ContinuousClock.now
    let more = state.withLock { s -> Bool in
      s.received += 1
      if !matches, s.failure == nil { s.failure = "echo \(s.received) differs from what was sent" }
      if s.received == s.total { s.finished = now }
      return s.sent < s.total
    }
    if more { fill() }
  }
}
