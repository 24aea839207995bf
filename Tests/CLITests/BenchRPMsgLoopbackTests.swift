import Foundation
import Testing

@Suite struct BenchRPMsgLoopbackTests {
  @Test func jsonHasTheDocumentedKeysAndTheAllocationCounterCounts() throws {
    let result = try Rproc.run(["bench", "rpmsg-loopback", "--json", "--messages", "2000", "--runs", "1"])
    #expect(result.status == 0, "\(result.stderr)")
    let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
    for key in ["oneway_ns_32", "oneway_ns_496", "echo_ns_32", "echo_ns_496", "zerocopy_oneway_ns_496"] {
      let value = try #require(object[key] as? Double, "\(key)")
      #expect(value > 0)
    }
    // The malloc interposer linked into rproc saw 1000 known allocations before measuring.
    #expect(object["allocation_counter_verified"] as? Bool == true)
    #expect(object["allocations_per_message"] is Double || object["allocations_per_message"] is Int)
    #expect(object["messages"] as? Int == 2000)
  }

  @Test func zeroMessagesIsAUsageError() throws {
    let result = try Rproc.run(["bench", "rpmsg-loopback", "--messages", "0"])
    #expect(result.status == 64)
    #expect(result.stderr.contains("'--messages' must be at least 1."))
  }

  @Test func helpIsStable() throws {
    let result = try Rproc.run(["bench", "rpmsg-loopback", "--help"])
    #expect(result.stdout == """
      OVERVIEW: Both rpmsg roles in one process on one thread: one-way, echo and
      zero-copy messages.

      USAGE: rproc bench rpmsg-loopback [--json] [--messages <messages>] [--runs <runs>]

      OPTIONS:
        --json                  Print JSON.
        --messages <messages>   Messages per timed run. (default: 1000000)
        --runs <runs>           Timed runs of each figure (the median is reported).
                                (default: 5)
        -h, --help              Show help information.


      """)
  }
}
