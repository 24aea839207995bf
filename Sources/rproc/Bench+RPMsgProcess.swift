import ArgumentParser
import Foundation
import RemoteprocBenchmarks

extension Bench {
  /// `rproc bench rpmsg-process`.
  struct RPMsgProcess: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "rpmsg-process",
      abstract: "rpmsg to a native firmware process on its own CPU, against futex, busy-poll and socket ping-pongs.")

    @Flag(help: "Print JSON.")
    var json = false

    @Option(help: "Timed echo round trips per figure (after 1000 untimed ones).")
    var roundTrips = 20_000

    @Option(help: "Messages per one-way figure.")
    var messages = 1_000_000

    @Option(help: "CPU for the remote (the host's threads leave it); -1 for no pinning. (default: the last CPU)")
    var remoteCPU: Int?

    @Option(help: "The folder with rpmsg-bench-native.elf and pingpong-native. (default: firmware/build)")
    var firmware: String?

    func validate() throws {
      guard roundTrips >= 100 else { throw ValidationError("'--round-trips' must be at least 100.") }
      guard messages > 0 else { throw ValidationError("'--messages' must be at least 1.") }
    }

    func run() async throws {
      let directory = try firmware ?? Self.findFirmware()
      for file in ["rpmsg-bench-native.elf", "pingpong-native"]
      where !FileManager.default.isExecutableFile(atPath: "\(directory)/\(file)") {
        throw ValidationError("\(directory)/\(file) is missing: run firmware/build.sh (or scripts/setup), or pass '--firmware'.")
      }
      let cpus = RPMsgProcessBenchmark.defaultCPUs
      let remote = remoteCPU.map { $0 < 0 ? nil : $0 } ?? cpus.remote
      let host = remote == nil ? nil : (remote == 0 ? 1 : 0)
      let result = try await RPMsgProcessBenchmark(
        firmwareDirectory: directory, roundTrips: roundTrips, messages: messages, remoteCPU: remote, hostCPU: host
      ).run()
      if json { return try Output.json(result) }
      func ns(_ v: Double) -> String { String(format2: v) + " ns" }
      func rate(_ v: Double) -> String { String(format2: v / 1e6) + " M msg/s" }
      print("sleeping doorbell (futex)")
      print("  round trip 32 B   p50 \(ns(result.rtt_ns_p50_32))  p99 \(ns(result.rtt_ns_p99_32))"
              + "   (target ≤ 1.5 × futex floor = \(ns(1.5 * result.floor_futex_rtt_ns_p50_32)))")
      print("  one-way 32 B      \(rate(result.oneway_msgs_per_s_32))   (target ≥ 2 M msg/s)")
      print("  one-way 496 B     \(rate(result.oneway_msgs_per_s_496))")
      print("adaptive doorbell (poll 50 µs, then sleep)")
      print("  round trip 32 B   p50 \(ns(result.rtt_ns_p50_32_adaptive))  p99 \(ns(result.rtt_ns_p99_32_adaptive))"
              + "   (target ≤ 1000 ns and ≤ socket / 30 = \(ns(result.socket_rtt_ns_p50_32 / 30)))")
      print("  one-way 32 B      \(rate(result.oneway_msgs_per_s_32_adaptive))")
      print("  one-way 496 B     \(rate(result.oneway_msgs_per_s_496_adaptive))")
      print("baselines, two processes, 32 B")
      print("  futex ping-pong   p50 \(ns(result.floor_futex_rtt_ns_p50_32))  p99 \(ns(result.floor_futex_rtt_ns_p99_32))")
      print("  busy-poll         p50 \(ns(result.floor_spin_rtt_ns_p50_32))")
      print("  SOCK_SEQPACKET    p50 \(ns(result.socket_rtt_ns_p50_32))  p99 \(ns(result.socket_rtt_ns_p99_32))")
      print("remote on CPU \(result.remote_cpu.map(String.init) ?? "any"), host on the others;"
              + " \(result.round_trips) round trips, \(result.messages) one-way messages per figure")
    }

    /// `firmware/build` in the current folder or above it, or above the executable (which
    /// sits in the package's `.build`).
    static func findFirmware() throws -> String {
      var candidates: [URL] = []
      for start in [
        URL(fileURLWithPath: FileManager.default.currentDirectoryPath),
        URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent(),
      ] {
        var directory = start
        while true {
          candidates.append(directory.appendingPathComponent("firmware/build"))
          if directory.path == "/" { break }
          directory.deleteLastPathComponent()
        }
      }
      for candidate in candidates
      where FileManager.default.fileExists(atPath: candidate.appendingPathComponent("rpmsg-bench-native.elf").path) {
        return candidate.path
      }
      throw ValidationError(
        "no firmware/build with rpmsg-bench-native.elf here or above: run firmware/build.sh, or pass '--firmware'.")
    }
  }
}
