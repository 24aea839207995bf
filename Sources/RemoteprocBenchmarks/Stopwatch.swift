/// Monotonic timing for benchmarks: the best or median of repeated runs, in nanoseconds.
public enum Stopwatch {
  /// Nanoseconds `body` takes, once.
  public static func nanoseconds(_ body: () throws -> Void) rethrows -> Double {
    let clock = ContinuousClock()
    let start = clock.now
    try body()
    let elapsed = clock.now - start
    let (seconds, attoseconds) = elapsed.components
    return Double(seconds) * 1e9 + Double(attoseconds) / 1e9
  }

  /// The median of `runs` timings of `body`, after `warmup` untimed runs.
  public static func median(runs: Int, warmup: Int = 3, _ body: () throws -> Void) rethrows -> Double {
    for _ in 0..<warmup { try body() }
    var samples: [Double] = []
    samples.reserveCapacity(runs)
    for _ in 0..<runs { samples.append(try nanoseconds(body)) }
    samples.sort()
    return samples[samples.count / 2]
  }
}
