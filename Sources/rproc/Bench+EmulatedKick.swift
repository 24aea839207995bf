import ArgumentParser
import Foundation
import RemoteprocBenchmarks
import RemoteprocEmulated

extension Bench {
  /// `rproc bench emulated-kick`.
  struct EmulatedKick: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "emulated-kick",
      abstract: "Kick round trip through case-invert's serial port and rpmsg echo throughput on emulated cores.",
      discussion: """
        Boots firmware/build/case-invert-<machine>.elf and rpmsg-echo-<machine>.elf under the \
        remoteproc core. rtt_ns_* is the single-thread round trip (host logic on the core's \
        owner thread); cross_thread_rtt_ns_* is the same with the host on another thread; \
        idle_rtt_ns_* starts each round trip with the guest asleep (a kick and an interrupt each).
        """)

    @Option(help: "mips32, mips32be, rv32 or cortex-m4 (default: every machine).")
    var machine: String?

    @Flag(help: "Print JSON (one object with --machine, else an array).")
    var json = false

    @Option(help: "Timed round trips in each mode.")
    var roundTrips = 10_000

    @Option(help: "Echoed messages for the throughput figure.")
    var echoMessages = 20_000

    @Option(help: "Directory holding the example firmware.")
    var firmwareDirectory = "firmware/build"

    func validate() throws {
      if let machine, EmulatedMachine.named(machine) == nil {
        throw ValidationError(
          "'--machine' must be one of \(EmulatedMachine.all.map(\.name).joined(separator: ", ")).")
      }
      guard roundTrips > 0 else { throw ValidationError("'--round-trips' must be at least 1.") }
      guard echoMessages > 0 else { throw ValidationError("'--echo-messages' must be at least 1.") }
    }

    func run() async throws {
      let machines = machine.flatMap(EmulatedMachine.named).map { [$0] } ?? EmulatedMachine.all
      for machine in machines {
        let image = "\(firmwareDirectory)/case-invert-\(machine.name).elf"
        guard FileManager.default.fileExists(atPath: image) else {
          Output.error("rproc: \(image) not found: build the firmware (firmware/build.sh) or pass --firmware-directory")
          throw ExitCode.failure
        }
      }
      var results: [EmulatedKickBenchmark.Result] = []
      for machine in machines {
        do {
          results.append(try await EmulatedKickBenchmark(
            machine: machine, firmwareDirectory: firmwareDirectory, roundTrips: roundTrips,
            echoMessages: echoMessages
          ).run())
        } catch {
          Output.error("rproc: emulated-kick on \(machine.name): \(error)")
          throw ExitCode.failure
        }
      }
      if json {
        if machine != nil, let only = results.first { return try Output.json(only) }
        return try Output.json(results)
      }
      func ns(_ value: Double) -> String { "\(Int(value.rounded())) ns" }
      for r in results {
        print("\(r.machine)")
        print("  kick round trip             p50 \(ns(r.rtt_ns_p50))   p99 \(ns(r.rtt_ns_p99))   (target p50 ≤ 5000 ns)"
                + "   \(String(format2: r.kicks_per_round_trip)) kicks and \(String(format2: r.interrupts_per_round_trip)) interrupts each")
        print("  round trip, streaming       p50 \(ns(r.streaming_rtt_ns_p50))   p99 \(ns(r.streaming_rtt_ns_p99))"
                + "   \(String(format2: r.streaming_kicks_per_round_trip)) kicks each")
        print("  round trip, cross-thread    p50 \(ns(r.cross_thread_rtt_ns_p50))   p99 \(ns(r.cross_thread_rtt_ns_p99))"
                + "   \(String(format2: r.cross_thread_kicks_per_round_trip)) kicks each (owner thread slept \(r.cross_thread_owner_sleeps)×)")
        print("  round trip, from idle       p50 \(ns(r.idle_rtt_ns_p50))   p99 \(ns(r.idle_rtt_ns_p99))"
                + "   \(String(format2: r.idle_kicks_per_round_trip)) kicks and \(String(format2: r.idle_interrupts_per_round_trip)) interrupts each")
        print("  rpmsg echo                  \(Int(r.echo_msgs_per_s.rounded())) messages/s")
        print("  guest                       \(String(format2: r.guest_mips)) MIPS, "
                + "\(Int(r.guest_instructions_per_round_trip.rounded())) instructions and "
                + "\(ns(r.guest_ns_per_round_trip)) per round trip")
        print("  guest stores                \(String(format2: r.guest_stores_per_round_trip)) per round trip, "
                + "\(String(format2: r.guest_code_page_stores_per_round_trip)) of them to pages holding code")
      }
      print("\(roundTrips) timed round trips per mode, \(echoMessages) echoes")
    }
  }
}
