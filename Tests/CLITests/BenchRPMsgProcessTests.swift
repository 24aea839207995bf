import Foundation
import Testing

@Suite struct BenchRPMsgProcessTests {
  static let firmware = Rproc.repository.appendingPathComponent("firmware/build").path

  @Test func jsonHasTheDocumentedKeys() throws {
    guard FileManager.default.fileExists(atPath: Self.firmware + "/rpmsg-bench-native.elf") else {
      Issue.record("firmware/build has no native firmware: run firmware/build.sh")
      return
    }
    let result = try Rproc.run([
      "bench", "rpmsg-process", "--json", "--round-trips", "200", "--messages", "2000", "--firmware", Self.firmware,
    ])
    #expect(result.status == 0, "\(result.stderr)")
    let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
    let keys = [
      "rtt_ns_p50_32", "rtt_ns_p99_32", "oneway_msgs_per_s_32", "oneway_msgs_per_s_496",
      "rtt_ns_p50_32_adaptive", "rtt_ns_p99_32_adaptive", "oneway_msgs_per_s_32_adaptive",
      "oneway_msgs_per_s_496_adaptive", "floor_futex_rtt_ns_p50_32", "floor_spin_rtt_ns_p50_32",
      "socket_rtt_ns_p50_32",
    ]
    for key in keys {
      let value = try #require(object[key] as? Double, "\(key)")
      #expect(value > 0, "\(key)")
    }
    #expect(object["round_trips"] as? Int == 200)
    #expect(object["messages"] as? Int == 2000)
  }

  @Test func tooFewRoundTripsIsAUsageError() throws {
    let result = try Rproc.run(["bench", "rpmsg-process", "--round-trips", "10"])
    #expect(result.status == 64)
    #expect(result.stderr.contains("'--round-trips' must be at least 100."))
  }

  @Test func aFolderWithoutTheFirmwareIsAUsageError() throws {
    let result = try Rproc.run(["bench", "rpmsg-process", "--firmware", "/nonexistent"])
    #expect(result.status == 64)
    #expect(result.stderr.contains("/nonexistent/rpmsg-bench-native.elf is missing"))
  }

  @Test func helpIsStable() throws {
    let result = try Rproc.run(["bench", "rpmsg-process", "--help"])
    #expect(result.stdout == """
      OVERVIEW: rpmsg to a native firmware process on its own CPU, against futex,
      busy-poll and socket ping-pongs.

      USAGE: rproc bench rpmsg-process [--json] [--round-trips <round-trips>] [--messages <messages>] [--remote-cpu <remote-cpu>] [--firmware <firmware>]

      OPTIONS:
        --json                  Print JSON.
        --round-trips <round-trips>
                                Timed echo round trips per figure (after 1000 untimed
                                ones). (default: 20000)
        --messages <messages>   Messages per one-way figure. (default: 1000000)
        --remote-cpu <remote-cpu>
                                CPU for the remote (the host's threads leave it); -1
                                for no pinning. (default: the last CPU)
        --firmware <firmware>   The folder with rpmsg-bench-native.elf and
                                pingpong-native. (default: firmware/build)
        -h, --help              Show help information.


      """)
  }
}
