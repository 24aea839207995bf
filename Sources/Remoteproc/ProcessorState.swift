/// The state of a remote processor, with the strings Linux's sysfs `state` file shows.
/// Linux: `enum rproc_state` and `rproc_state_string[]`.
public enum ProcessorState: String, Hashable, Sendable, CaseIterable, CustomStringConvertible {
  /// Powered off (or never booted). Linux: `RPROC_OFFLINE`.
  case offline
  /// Suspended by the platform. Linux: `RPROC_SUSPENDED`.
  case suspended
  /// Booted by us and running. Linux: `RPROC_RUNNING`.
  case running
  /// Crashed; recovery runs unless disabled. Linux: `RPROC_CRASHED`.
  case crashed
  /// Started by someone else and adopted by us. Linux: `RPROC_ATTACHED`.
  case attached
  /// Running, started by someone else, and not (or no longer) adopted. Linux: `RPROC_DETACHED`.
  case detached

  public var description: String { rawValue }

  /// True when the remote is executing and its resources are in use.
  public var isUp: Bool { self == .running || self == .attached }
}

/// What kind of crash a platform reports. Linux: `enum rproc_crash_type`.
public enum CrashType: String, Hashable, Sendable, CaseIterable, CustomStringConvertible {
  /// The remote touched memory it may not (MMU/MPU fault, bus error, bad fetch).
  /// Linux: `RPROC_MMUFAULT` ("mmufault").
  case mmuFault = "mmufault"
  /// The remote stopped making progress. Linux: `RPROC_WATCHDOG` ("watchdog").
  case watchdog
  /// Anything else fatal: an invalid instruction, an abort. Linux: `RPROC_FATAL_ERROR`
  /// ("fatal error").
  case fatalError = "fatal error"

  public var description: String { rawValue }

  /// Linux debugfs `crash` takes the number of the type: 0 mmufault, 1 watchdog, 2 fatal error.
  public init?(number: Int) {
    switch number {
    case 0: self = .mmuFault
    case 1: self = .watchdog
    case 2: self = .fatalError
    default: return nil
    }
  }
}

/// What the `coredump` attribute selects. Linux: `enum rproc_dump_mechanism`.
public enum CoredumpMode: String, Hashable, Sendable, CaseIterable {
  /// No dump on crash.
  case disabled
  /// A copy of every memory segment is taken before recovery restarts the remote.
  case enabled
  /// Linux reads the segments from device memory while userspace reads the dump and holds
  /// recovery until it is done; here the dump is also complete before recovery continues,
  /// so the two differ only in name.
  case inline
}
