import ArgumentParser
import CMallocCounter
import RemoteprocBenchmarks

extension Bench {
  /// `rproc bench rpmsg-loopback`.
  struct RPMsgLoopback: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "rpmsg-loopback",
      abstract: "Both rpmsg roles in one process on one thread: one-way, echo and zero-copy messages.")

    @Flag(help: "Print JSON.")
    var json = false

    @Option(help: "Messages per timed run.")
    var messages = 1_000_000

    @Option(help: "Timed runs of each figure (the median is reported).")
    var runs = 5

    func validate() throws {
      guard messages > 0 else { throw ValidationError("'--messages' must be at least 1.") }
      guard runs > 0 else { throw ValidationError("'--runs' must be at least 1.") }
    }

    func run() throws {
      let result = try RPMsgLoopbackBenchmark(
        messages: messages, runs: runs, allocations: { rproc_malloc_count() }
      ).run()
      if json { return try Output.json(result) }
      func ns(_ v: Double) -> String { String(format2: v) + " ns" }
      print("one-way 32 B        \(ns(result.oneway_ns_32))   (target ≤ 100)")
      print("one-way 496 B       \(ns(result.oneway_ns_496))   (target ≤ 100)")
      print("echo 32 B           \(ns(result.echo_ns_32))   (target ≤ 250)")
      print("echo 496 B          \(ns(result.echo_ns_496))   (target ≤ 250)")
      print("zero-copy 496 B     \(ns(result.zerocopy_oneway_ns_496))")
      print("one-way 32 B, locks unbiased  \(ns(result.oneway_ns_32_unbiased))   (another thread used the buses)")
      print("echo 32 B, locks unbiased     \(ns(result.echo_ns_32_unbiased))")
      print("floor 32 B          \(ns(result.floor_ns_32))   (copy in, publish, read back)")
      print("allocations/msg     \(result.allocations_per_message.map { String(format2: $0) } ?? "n/a")"
              + "   (counter verified: \(result.allocation_counter_verified == true ? "yes" : "no"))")
      print("messages            \(result.messages) per run, median of \(result.runs) runs")
    }
  }
}
