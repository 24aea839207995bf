import Remoteproc
import RemoteprocEmulated

/// The emulated-core kick round trip and echo throughput, through the product's own stack:
/// the remoteproc core (`RemoteprocRegistry`) boots the real example firmware on an
/// ``EmulatedPlatform`` with `RemoteprocVirtioDrivers`, and the host talks to it with the
/// real `VirtioSerialPort` and `RPMsgBus`. Behind `rproc bench emulated-kick`.
///
/// - Round trip: 32 bytes written to case-invert's serial port (virtio id 11), the kick, the
///   firmware's interrupt, the case-inverted reply in a receive buffer, its doorbell, and the
///   host's receive closure checking the reply. Measured four ways:
///   - *kick round trip* (`rtt_ns_*`): the host's logic runs on the core's owner thread, and
///     each request waits (``EmulatedCore/performWhenIdle(_:)``) until the firmware has found
///     its ring empty and idled in `wait`/`wfi`, so every round trip takes exactly one kick
///     and one interrupt (`kicks_per_round_trip`, `interrupts_per_round_trip`);
///   - *streaming* (`streaming_rtt_ns_*`): the receive closure sends the next request at
///     once, while the firmware is still in its receive loop, which takes it without a kick
///     (virtio notification suppression, as on real hardware);
///   - *cross-thread* (`cross_thread_rtt_ns_*`): a host thread writes and spins until the
///     owner thread has delivered the reply, as an application thread would;
///   - *from idle* (`idle_rtt_ns_*`): the kick round trip with the owner thread asleep on its
///     futex as well, 200 µs after the last reply (see `SerialSession.fromIdle`).
/// - Echo throughput (`echo_msgs_per_s`): 32-byte messages to rpmsg-echo's
///   `rpmsg-client-sample` endpoint with every transmit buffer in flight, single-thread; the
///   median of five floods.
/// - Guest speed (`guest_mips`): guest instructions and stores per round trip (counted in a
///   separate run with a code hook and a memory-write hook) over the time spent in guest code per round trip (measured in a
///   third run), so neither measurement disturbs the other or the round trip.
public struct EmulatedKickBenchmark: Sendable {
  public struct Result: Codable, Sendable {
    public var machine: String
    /// Kick round trip (single-thread, the guest idling in `wait`/`wfi` when the request is
    /// written): median and 99th percentile.
    public var rtt_ns_p50: Double
    public var rtt_ns_p99: Double
    /// Single-thread round trips back to back: each request written from the previous
    /// reply's doorbell, taken by the firmware without a kick.
    public var streaming_rtt_ns_p50: Double
    public var streaming_rtt_ns_p99: Double
    /// The same round trip with the host on another thread.
    public var cross_thread_rtt_ns_p50: Double
    public var cross_thread_rtt_ns_p99: Double
    /// Times the owner thread slept on its futex during the cross-thread run.
    public var cross_thread_owner_sleeps: UInt64
    /// Round trips that begin with the guest asleep: a kick and an interrupt each.
    public var idle_rtt_ns_p50: Double
    public var idle_rtt_ns_p99: Double
    /// Host→guest kicks per round trip in each mode (the firmware suppresses kicks while it
    /// is taking requests anyway), and interrupts the guest took per kick round trip.
    public var kicks_per_round_trip: Double
    public var interrupts_per_round_trip: Double
    public var streaming_kicks_per_round_trip: Double
    public var cross_thread_kicks_per_round_trip: Double
    public var idle_kicks_per_round_trip: Double
    /// Interrupts the guest took per round trip from idle.
    public var idle_interrupts_per_round_trip: Double
    public var echo_msgs_per_s: Double
    /// Millions of guest instructions per second of guest execution.
    public var guest_mips: Double
    public var guest_instructions_per_round_trip: Double
    public var guest_ns_per_round_trip: Double
    /// Guest stores per round trip (MMIO included), and those of them to a page that holds
    /// translated code (QEMU's self-modifying-code slow path), from the counting run.
    public var guest_stores_per_round_trip: Double
    public var guest_code_page_stores_per_round_trip: Double
    /// Timed round trips per mode (after the warm-up).
    public var round_trips: Int
    public var echo_messages: Int
  }

  public struct Failure: Error, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
  }

  public var machine: EmulatedMachine
  /// Where `case-invert-<machine>.elf` and `rpmsg-echo-<machine>.elf` are (`firmware/build`).
  public var firmwareDirectory: String
  public var roundTrips: Int
  public var echoMessages: Int
  /// Untimed round trips first (the translation cache fills up).
  public var warmUp: Int
  public var payload: [UInt8]

  public init(
    machine: EmulatedMachine, firmwareDirectory: String, roundTrips: Int = 10_000,
    echoMessages: Int = 20_000, warmUp: Int = 200,
    payload: [UInt8] = Array("The Quick Brown Fox, 0123456789!".utf8)
  ) {
    self.machine = machine
    self.firmwareDirectory = firmwareDirectory
    self.roundTrips = roundTrips
    self.echoMessages = echoMessages
    self.warmUp = warmUp
    self.payload = payload
  }

  public func run() async throws -> Result {
    guard roundTrips > 0, echoMessages > 0, warmUp >= 0, !payload.isEmpty, payload.count <= 496 else {
      throw Failure("round trips and echo messages must be positive, the payload 1…496 bytes")
    }
    let quiet = EmulatedCore.Options(watchdogTimeout: nil)

    let serial = try await SerialSession(self, options: quiet)
    let core = serial.platform.core
    _ = try await serial.singleThread(warmUp, kicked: true)
    var before = core.statistics
    let kicked = try await serial.singleThread(roundTrips, kicked: true)
    let kickedKicks = core.statistics.kicks - before.kicks
    let kickedInterrupts = core.statistics.interruptsDelivered - before.interruptsDelivered
    _ = try await serial.singleThread(warmUp)
    before = core.statistics
    let single = try await serial.singleThread(roundTrips)
    let singleKicks = core.statistics.kicks - before.kicks
    _ = try await serial.crossThread(warmUp)
    before = core.statistics
    let cross = try await serial.crossThread(roundTrips)
    let sleeps = core.statistics.sleeps - before.sleeps
    let crossKicks = core.statistics.kicks - before.kicks
    // From idle: 200 µs apart, so fewer of them (at most 2,000).
    let idleRoundTrips = min(roundTrips, 2_000)
    _ = try await serial.fromIdle(min(warmUp, 50))
    before = core.statistics
    let idle = try await serial.fromIdle(idleRoundTrips)
    let idleKicks = core.statistics.kicks - before.kicks
    let idleInterrupts = core.statistics.interruptsDelivered - before.interruptsDelivered
    await serial.close()

    // guest_mips: the guest's share of a round trip, and its instruction count, each from
    // its own run (the code hook would slow the timed run several times over). Guest time is
    // the median over batches of 200 round trips, so a batch in which this shared machine
    // preempted the owner thread does not count.
    let batch = 200
    let profiled = max(1, min(roundTrips, 2_000) / batch) * batch
    var timing = quiet
    timing.measuresGuestTime = true
    let timed = try await SerialSession(self, options: timing)
    _ = try await timed.singleThread(warmUp)
    var batchTimes: [Int64] = []
    for _ in 0..<(profiled / batch) {
      let before = timed.platform.core.statistics.guestTime
      _ = try await timed.singleThread(batch)
      batchTimes.append(nanoseconds(timed.platform.core.statistics.guestTime - before))
    }
    await timed.close()
    var counting = quiet
    counting.countsInstructions = true
    counting.countsStores = true
    let counted = try await SerialSession(self, options: counting)
    _ = try await counted.singleThread(warmUp)
    let countsBefore = counted.platform.core.statistics
    _ = try await counted.singleThread(profiled)
    let countsAfter = counted.platform.core.statistics
    let instructions = countsAfter.instructions - countsBefore.instructions
    let stores = countsAfter.stores - countsBefore.stores
    let codePageStores = countsAfter.codePageStores - countsBefore.codePageStores
    await counted.close()

    // Echo throughput: the median of five floods of a fifth of the messages each.
    let echo = try await EchoSession(self, options: quiet)
    let flood = max(1, echoMessages / 5)
    var rates: [Int64] = []
    for _ in 0..<5 {
      rates.append(Int64(Double(flood) / (try await echo.flood(flood))))
    }
    await echo.close()

    let guestNanoseconds = percentile(batchTimes, 50) / Double(batch)
    let instructionsPerRoundTrip = Double(instructions) / Double(profiled)
    return Result(
      machine: machine.name,
      rtt_ns_p50: percentile(kicked, 50), rtt_ns_p99: percentile(kicked, 99),
      streaming_rtt_ns_p50: percentile(single, 50), streaming_rtt_ns_p99: percentile(single, 99),
      cross_thread_rtt_ns_p50: percentile(cross, 50), cross_thread_rtt_ns_p99: percentile(cross, 99),
      cross_thread_owner_sleeps: sleeps,
      idle_rtt_ns_p50: percentile(idle, 50), idle_rtt_ns_p99: percentile(idle, 99),
      kicks_per_round_trip: Double(kickedKicks) / Double(roundTrips),
      interrupts_per_round_trip: Double(kickedInterrupts) / Double(roundTrips),
      streaming_kicks_per_round_trip: Double(singleKicks) / Double(roundTrips),
      cross_thread_kicks_per_round_trip: Double(crossKicks) / Double(roundTrips),
      idle_kicks_per_round_trip: Double(idleKicks) / Double(idleRoundTrips),
      idle_interrupts_per_round_trip: Double(idleInterrupts) / Double(idleRoundTrips),
      echo_msgs_per_s: percentile(rates, 50),
      guest_mips: instructionsPerRoundTrip / guestNanoseconds * 1_000,
      guest_instructions_per_round_trip: instructionsPerRoundTrip,
      guest_ns_per_round_trip: guestNanoseconds,
      guest_stores_per_round_trip: Double(stores) / Double(profiled),
      guest_code_page_stores_per_round_trip: Double(codePageStores) / Double(profiled),
      round_trips: roundTrips, echo_messages: 5 * flood)
  }

  /// The expected reply: ASCII letters with their case inverted, every other byte as is.
  var invertedPayload: [UInt8] {
    payload.map { byte in
      let lower = byte | 0x20
      return lower >= 0x61 && lower <= 0x7A ? byte ^ 0x20 : byte
    }
  }
}

func nanoseconds(_ duration: Duration) -> Int64 {
  let (seconds, attoseconds) = duration.components
  return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
}

/// The `p`th percentile (nearest rank) of samples in nanoseconds.
func percentile(_ samples: [Int64], _ p: Int) -> Double {
  let sorted = samples.sorted()
  guard !sorted.isEmpty else { return 0 }
  return Double(sorted[min(sorted.count - 1, sorted.count * p / 100)])
}
