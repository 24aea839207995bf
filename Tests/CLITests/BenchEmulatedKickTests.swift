import Foundation
import Testing

@Suite struct BenchEmulatedKickTests {
  static var firmware: String { Rproc.repository.appendingPathComponent("firmware/build").path }
  /// Builds the example firmware (firmware/build.sh does nothing when it is up to date);
  /// false only where it cannot be built (no clang: the emulated tests skip there too).
  static let firmwareBuilt: Bool = {
    let process = Process()
    process.executableURL = Rproc.repository.appendingPathComponent("firmware/build.sh")
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    guard (try? process.run()) != nil else { return false }
    process.waitUntilExit()
    return process.terminationStatus == 0
  }()

  /// The figures are not checked (speed is for the benchmark), only that each documented key
  /// holds a number.
  @Test(.enabled(if: firmwareBuilt)) func jsonHasTheDocumentedKeys() throws {
    let result = try Rproc.run([
      "bench", "emulated-kick", "--machine", "rv32", "--json", "--round-trips", "100",
      "--echo-messages", "100", "--firmware-directory", Self.firmware,
    ])
    #expect(result.status == 0, "\(result.stderr)")
    let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
    #expect(object["machine"] as? String == "rv32")
    for key in ["rtt_ns_p50", "rtt_ns_p99", "echo_msgs_per_s", "guest_mips", "kicks_per_round_trip",
                "interrupts_per_round_trip", "streaming_rtt_ns_p50", "streaming_rtt_ns_p99",
                "cross_thread_rtt_ns_p50", "cross_thread_rtt_ns_p99", "idle_rtt_ns_p50", "idle_rtt_ns_p99"] {
      let value = try #require(object[key] as? Double, "\(key)")
      #expect(value > 0, "\(key)")
    }
    #expect(object["round_trips"] as? Int == 100)
  }

  @Test func anUnknownMachineIsAUsageError() throws {
    let result = try Rproc.run(["bench", "emulated-kick", "--machine", "z80"])
    #expect(result.status == 64)
    #expect(result.stderr.contains("'--machine' must be one of mips32, mips32be, rv32, cortex-m4."))
  }

  @Test func aMissingFirmwareDirectoryFailsWithAReason() throws {
    let result = try Rproc.run(["bench", "emulated-kick", "--machine", "rv32", "--firmware-directory", "/nonexistent"])
    #expect(result.status == 1)
    #expect(result.stderr.contains("/nonexistent/case-invert-rv32.elf not found"))
  }

  @Test func helpIsStable() throws {
    let result = try Rproc.run(["bench", "emulated-kick", "--help"])
    #expect(result.stdout == """
      OVERVIEW: Kick round trip through case-invert's serial port and rpmsg echo
      throughput on emulated cores.

      Boots firmware/build/case-invert-<machine>.elf and rpmsg-echo-<machine>.elf
      under the remoteproc core. rtt_ns_* is the single-thread round trip (host logic
      on the core's owner thread); cross_thread_rtt_ns_* is the same with the host on
      another thread; idle_rtt_ns_* starts each round trip with the guest asleep (a
      kick and an interrupt each).

      USAGE: rproc bench emulated-kick [--machine <machine>] [--json] [--round-trips <round-trips>] [--echo-messages <echo-messages>] [--firmware-directory <firmware-directory>]

      OPTIONS:
        --machine <machine>     mips32, mips32be, rv32 or cortex-m4 (default: every
                                machine).
        --json                  Print JSON (one object with --machine, else an array).
        --round-trips <round-trips>
                                Timed round trips in each mode. (default: 10000)
        --echo-messages <echo-messages>
                                Echoed messages for the throughput figure. (default:
                                20000)
        --firmware-directory <firmware-directory>
                                Directory holding the example firmware. (default:
                                firmware/build)
        -h, --help              Show help information.


      """)
  }
}
