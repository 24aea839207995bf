import RemoteprocBenchmarks
import RemoteprocEmulated
import Testing

/// The benchmark's code path, on every machine: every reply and every echo is checked inside
/// `run()`; the figures are printed, never asserted (speed is for `rproc bench`, not tests).
@Suite(.enabled(if: FirmwareImages.canRun), .serialized)
struct EmulatedKickBenchmarkTests {
  @Test(arguments: EmulatedMachine.all)
  func roundTripsAndEchoesThroughTheRealStack(machine: EmulatedMachine) async throws {
    try FirmwareImages.requireImages()
    let benchmark = EmulatedKickBenchmark(
      machine: machine, firmwareDirectory: FirmwareImages.buildDirectory.path, roundTrips: 200,
      echoMessages: 200, warmUp: 20)
    let result = try await benchmark.run()
    #expect(result.machine == machine.name)
    #expect(result.round_trips == 200 && result.echo_messages == 200)
    // The kick round trip: the guest idles before each request, so one kick and one
    // interrupt each; streaming, the firmware takes each request without one.
    #expect(result.rtt_ns_p50 > 0 && result.rtt_ns_p99 >= result.rtt_ns_p50)
    #expect(result.kicks_per_round_trip == 1 && result.interrupts_per_round_trip == 1)
    #expect(result.streaming_rtt_ns_p50 > 0 && result.streaming_rtt_ns_p99 >= result.streaming_rtt_ns_p50)
    #expect(result.streaming_kicks_per_round_trip < 1)
    #expect(result.cross_thread_rtt_ns_p50 > 0 && result.cross_thread_rtt_ns_p99 >= result.cross_thread_rtt_ns_p50)
    #expect(result.echo_msgs_per_s > 0)
    // From idle, every round trip wakes the guest: one kick and one interrupt each.
    #expect(result.idle_rtt_ns_p50 > 0 && result.idle_rtt_ns_p99 >= result.idle_rtt_ns_p50)
    #expect(result.idle_kicks_per_round_trip == 1 && result.idle_interrupts_per_round_trip == 1)
    // Counted with a code hook: the same firmware path every round trip.
    #expect(result.guest_instructions_per_round_trip > 100)
    #expect(result.guest_mips > 0)
    print("emulated-kick \(machine.name): kick round trip p50 \(Int(result.rtt_ns_p50)) ns, streaming p50 "
      + "\(Int(result.streaming_rtt_ns_p50)) ns, cross-thread p50 "
      + "\(Int(result.cross_thread_rtt_ns_p50)) ns, echo \(Int(result.echo_msgs_per_s))/s, "
      + "\(Int(result.guest_instructions_per_round_trip)) instructions per round trip")
  }

  @Test func invalidParametersAreRefused() async {
    let benchmark = EmulatedKickBenchmark(machine: .riscv32, firmwareDirectory: "/nonexistent", roundTrips: 0)
    await #expect(throws: EmulatedKickBenchmark.Failure.self) { try await benchmark.run() }
  }
}
