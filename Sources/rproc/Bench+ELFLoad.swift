import ArgumentParser
import RemoteprocBenchmarks

extension Bench {
  /// `rproc bench elf-load`.
  struct ELFLoad: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "elf-load",
      abstract: "Load a 2 MiB firmware into shared memory, against a plain memcpy of the same bytes.")

    @Flag(help: "Print JSON.")
    var json = false

    @Option(help: "Timed runs of each side (the median is reported).")
    var runs = 101

    func validate() throws {
      guard runs > 0 else { throw ValidationError("'--runs' must be at least 1.") }
    }

    func run() throws {
      let result = try ELFLoadBenchmark(runs: runs).run()
      if json { return try Output.json(result) }
      print("firmware      \(result.firmware_bytes) bytes")
      print("load          \(Int(result.load_ns)) ns (median of \(result.runs))")
      print("memcpy        \(Int(result.memcpy_ns)) ns (median of \(result.runs))")
      print("ratio         \(String(format2: result.ratio)) (target ≤ 2)")
    }
  }
}

extension String {
  init(format2 value: Double) {
    let scaled = (value * 100).rounded()
    self = "\(Int(scaled) / 100).\(String(Int(scaled) % 100).count == 1 ? "0" : "")\(Int(scaled) % 100)"
  }
}
