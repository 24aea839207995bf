import Remoteproc
import RemoteprocEmulated
import RemoteprocVirtio
import Synchronization
import Virtio
import VirtioSerial

/// One booted firmware under the remoteproc core, for one phase of the benchmark.
final class BenchmarkSession {
  let platform: EmulatedPlatform
  let registry = RemoteprocRegistry()
  let processor: RemoteProcessor
  let drivers: RemoteprocVirtioDrivers

  init(
    _ bench: EmulatedKickBenchmark, example: String, options: EmulatedCore.Options,
    drivers: RemoteprocVirtioDrivers
  ) async throws {
    platform = try EmulatedPlatform(machine: bench.machine, options: options)
    self.drivers = drivers
    processor = await registry.add(
      name: bench.machine.name, firmware: "\(example)-\(bench.machine.name).elf", platform: platform,
      firmwareStore: FirmwareStore(directories: [bench.firmwareDirectory]), drivers: drivers
    ).processor
    try await processor.boot()
  }

  func close() async {
    await registry.remove(processor)
  }

  /// Polls (sleeping) until `done`; throws if the firmware crashes or `seconds` pass.
  func wait(_ what: String, seconds: Int, until done: () -> Bool) async throws {
    let deadline = ContinuousClock.now + .seconds(seconds)
    while !done() {
      if case .crashed(let report) = platform.core.state {
        throw EmulatedKickBenchmark.Failure("\(what): the firmware crashed: \(report)")
      }
      guard ContinuousClock.now < deadline else {
        throw EmulatedKickBenchmark.Failure("\(what): nothing after \(seconds) s")
      }
      try await Task.sleep(for: .milliseconds(1))
    }
  }
}

/// case-invert's serial port, driven from either thread.
final class SerialSession {
  let session: BenchmarkSession
  /// The guest's idle count when ``fromIdle(_:)`` last sent a request.
  private var idlesAtLastSend: UInt64?
  let exchange: SerialExchange
  let port: VirtioSerialPort
  var platform: EmulatedPlatform { session.platform }

  init(_ bench: EmulatedKickBenchmark, options: EmulatedCore.Options) async throws {
    let exchange = SerialExchange(payload: bench.payload, expected: bench.invertedPayload)
    self.exchange = exchange
    let drivers = RemoteprocVirtioDrivers(serialReceive: { _, _, bytes in exchange.received(bytes) })
    session = try await BenchmarkSession(bench, example: "case-invert", options: options, drivers: drivers)
    guard let port = drivers.serialPort(processor: session.processor.deviceName, index: 0), port.isRunning else {
      await session.close()
      throw EmulatedKickBenchmark.Failure("case-invert-\(bench.machine.name).elf brought no serial port up")
    }
    self.port = port
    let core = session.platform.core
    exchange.state.withLock {
      $0.port = port
      $0.core = core
    }
  }

  /// `count` round trips with the host's logic on the owner thread: the first request is
  /// queued with `perform`, each reply's receive closure checks it and sends the next.
  /// `kicked`: the next request waits (`performWhenIdle`) until the firmware has found its
  /// ring empty, asked for a kick and idled in `wait`/`wfi`, so each round trip is a write,
  /// a kick, the guest's wake-up and interrupt, the reply and its doorbell. Otherwise it is
  /// written from the reply's doorbell, while the firmware is still in its receive loop,
  /// which takes it without a kick (notification suppression).
  func singleThread(_ count: Int, kicked: Bool = false) async throws -> [Int64] {
    guard count > 0 else { return [] }
    exchange.finished.store(false, ordering: .releasing)
    exchange.state.withLock { s in
      s.singleThread = true
      s.waitsForIdle = kicked
      s.remaining = count
      s.samples = []
      s.samples.reserveCapacity(count)
      s.failure = nil
    }
    let exchange = self.exchange
    try platform.core.perform { exchange.sendNext() }
    try await session.wait("single-thread round trips", seconds: 10 + count / 1000) {
      exchange.finished.load(ordering: .acquiring)
    }
    let (samples, failure) = exchange.state.withLock { s in
      s.singleThread = false
      s.waitsForIdle = false
      return (s.samples, s.failure)
    }
    if let failure { throw EmulatedKickBenchmark.Failure(failure) }
    return samples
  }

  /// `count` round trips with the host on this thread: write, kick, spin until the owner
  /// thread has delivered the checked reply.
  func crossThread(_ count: Int) async throws -> [Int64] {
    let clock = ContinuousClock()
    var samples: [Int64] = []
    samples.reserveCapacity(count)
    for round in 0..<count {
      let before = exchange.replies.load(ordering: .acquiring)
      let start = clock.now
      guard try port.write(exchange.payload) == exchange.payload.count else {
        throw EmulatedKickBenchmark.Failure("round trip \(round): no transmit buffer was free")
      }
      var spins = 0
      while exchange.replies.load(ordering: .acquiring) == before {
        spins &+= 1
        if spins & 0xFFFF == 0, clock.now - start > .seconds(10) {
          throw EmulatedKickBenchmark.Failure("round trip \(round): no reply after 10 s (\(platform.core.state))")
        }
      }
      samples.append(nanoseconds(clock.now - start))
    }
    if let failure = exchange.state.withLock({ $0.failure }) {
      throw EmulatedKickBenchmark.Failure(failure)
    }
    return samples
  }

  /// `count` round trips that each begin with the guest asleep in `wait`/`wfi`: after a
  /// reply the host lets 200 µs pass (the firmware re-arms its kick and idles; the owner
  /// thread sleeps after its 50 µs idle spin), then queues the write with `perform`, so the
  /// round trip is timed on the owner thread from the write through the kick, the guest's
  /// wake-up and interrupt, to the checked reply; the owner thread's own wake-up (the OS's
  /// scheduling latency) is outside the figure.
  func fromIdle(_ count: Int) async throws -> [Int64] {
    // idlesAtLastSend: the guest's idle count when the last request went (nil before the
    // first), so the next waits until the guest has idled since.
    exchange.state.withLock { s in
      s.timesEachReply = true
      s.samples = []
      s.samples.reserveCapacity(count)
      s.failure = nil
    }
    defer { exchange.state.withLock { $0.timesEachReply = false } }
    let clock = ContinuousClock()
    let exchange = self.exchange
    let core = platform.core
    for round in 0..<count {
      let before = exchange.replies.load(ordering: .acquiring)
      // The guest has gone back to wait/wfi since the last reply (on a busy machine 200 µs
      // may not be enough), and the owner thread has had time to fall asleep.
      let idleSince = clock.now
      while let last = idlesAtLastSend, core.statistics.idles == last {
        guard clock.now - idleSince < .seconds(10) else {
          throw EmulatedKickBenchmark.Failure("round trip \(round) from idle: the guest never went idle again (\(core.state))")
        }
        try await Task.sleep(for: .microseconds(50))
      }
      try await Task.sleep(for: .microseconds(200))
      idlesAtLastSend = core.statistics.idles
      try core.perform { exchange.sendNext() }
      let start = clock.now
      while exchange.replies.load(ordering: .acquiring) == before {
        if let failure = exchange.state.withLock({ $0.failure }) { throw EmulatedKickBenchmark.Failure(failure) }
        guard clock.now - start < .seconds(10) else {
          throw EmulatedKickBenchmark.Failure("round trip \(round) from idle: no reply after 10 s (\(platform.core.state))")
        }
        await Task.yield()
      }
    }
    let (samples, failure) = exchange.state.withLock { ($0.samples, $0.failure) }
    if let failure { throw EmulatedKickBenchmark.Failure(failure) }
    return samples
  }

  func close() async { await session.close() }
}

/// The host half of the serial round trip; `received` and, in single-thread mode,
/// `sendNext` run on the core's owner thread.
final class SerialExchange: Sendable {
  struct State: Sendable {
    var port: VirtioSerialPort?
    var core: EmulatedCore?
    var reply: [UInt8] = []
    /// Single-thread mode: each reply sends the next request from the receive closure.
    var singleThread = false
    /// Single-thread mode: the next request waits until the guest idles (a kick each).
    var waitsForIdle = false
    /// Idle mode: each reply is timed, and the next request waits for the guest to idle.
    var timesEachReply = false
    var remaining = 0
    var sentAt: ContinuousClock.Instant?
    var samples: [Int64] = []
    var failure: String?
  }

  let payload: [UInt8]
  let expected: [UInt8]
  let state = Mutex(State())
  /// Checked replies so far (the cross-thread host spins on it).
  let replies = Atomic<Int>(0)
  /// Set when a single-thread run ends.
  let finished = Atomic<Bool>(false)
  let clock = ContinuousClock()

  init(payload: [UInt8], expected: [UInt8]) {
    self.payload = payload
    self.expected = expected
  }

  func sendNext() {
    let port = state.withLock { s -> VirtioSerialPort? in
      s.sentAt = clock.now
      return s.port
    }
    do throws(VirtioError) {
      guard let port, try port.write(payload) == payload.count else {
        fail("no transmit buffer was free")
        return
      }
    } catch {
      fail("write: \(error)")
    }
  }

  func fail(_ reason: String) {
    state.withLock { $0.failure = $0.failure ?? reason }
    finished.store(true, ordering: .releasing)
  }

  func received(_ bytes: [UInt8]) {
    let now = clock.now
    let (complete, sendAgain, whenIdle) = state.withLock { s -> (Bool, Bool, EmulatedCore?) in
      s.reply += bytes
      guard s.reply.count >= expected.count else { return (false, false, nil) }
      if s.reply != expected, s.failure == nil {
        s.failure = "wrong reply: \(s.reply.count) bytes, expected \(expected.count) case-inverted"
      }
      s.reply.removeAll(keepingCapacity: true)
      if s.timesEachReply, let sentAt = s.sentAt { s.samples.append(nanoseconds(now - sentAt)) }
      guard s.singleThread else { return (true, false, nil) }
      if let sentAt = s.sentAt { s.samples.append(nanoseconds(now - sentAt)) }
      s.remaining -= 1
      return (true, s.remaining > 0 && s.failure == nil, s.waitsForIdle ? s.core : nil)
    }
    guard complete else { return }
    replies.add(1, ordering: .releasing)
    if sendAgain, let core = whenIdle {
      do throws(EmulationError) {
        try core.performWhenIdle { [self] in sendNext() }
      } catch {
        fail("queueing the next request for when the guest idles: \(error)")
      }
    } else if sendAgain {
      sendNext()
    } else if state.withLock({ $0.singleThread }) {
      finished.store(true, ordering: .releasing)
    }
  }
}
