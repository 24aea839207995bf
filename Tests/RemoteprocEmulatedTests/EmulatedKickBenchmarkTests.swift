import RemoteprocBenchmarks
import RemoteprocEmulated
import Testing

/// The benchmark's code path, on every machine: every reply is checked inside `run()`; the
/// figures are printed, never asserted (speed is for `rproc bench`, not for tests).
@Suite(.enabled(if: FirmwareImages.canRun), .serialized)
struct EmulatedKickBenchmarkTests {
  @Test(arguments: EmulatedMachine.all)
  func roundTripsThroughCaseInvert(machine: EmulatedMachine) throws {
    let benchmark = EmulatedKickBenchmark(
      machine: machine, firmware: try FirmwareImages.image("case-invert", for: machine), roundTrips: 200)
    let result = try benchmark.run()
    #expect(result.round_trips == 200)
    #expect(result.rtt_ns_p50 > 0 && result.rtt_ns_p99 >= result.rtt_ns_p50)
    #expect(result.interrupts_per_round_trip > 0)
    print("emulated-kick \(machine.name): p50 \(Int(result.rtt_ns_p50)) ns, p99 \(Int(result.rtt_ns_p99)) ns, "
      + "\(result.interrupts_per_round_trip) interrupts and \(result.guest_blocks_per_round_trip) blocks "
      + "per round trip, owner slept \(result.owner_sleeps)×")
  }
}
