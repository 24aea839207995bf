import Foundation

/// Wall-clock time in nanoseconds since the Unix epoch, for packet timestamps.
///
/// `Date` alone resolves about 0.2 µs today (a `Double` of seconds), so the clock reads it
/// once and adds the monotonic clock's elapsed time: timestamps keep nanosecond steps and
/// never go backwards within one capture.
struct CaptureClock: Sendable {
  private let start = ContinuousClock.now
  private let startNanoseconds = UInt64(Date().timeIntervalSince1970 * 1e9)

  var now: UInt64 {
    let elapsed = ContinuousClock.now - start
    let (seconds, attoseconds) = elapsed.components
    return startNanoseconds + UInt64(seconds) * 1_000_000_000 + UInt64(attoseconds / 1_000_000_000)
  }
}
