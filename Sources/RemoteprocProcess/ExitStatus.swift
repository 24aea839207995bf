import CProcessShims
import Glibc
import Remoteproc

/// How a firmware process ended.
public enum ExitStatus: Hashable, Sendable, CustomStringConvertible {
  /// It returned from `main` or called `exit`.
  case exited(code: Int32)
  /// A signal ended it.
  case signaled(signal: Int32, coreDumped: Bool)
  /// It ended, but it is not our child (adopted after a host restart), so its status is
  /// the init process's to read.
  case unknown

  /// Decodes `rproc_pidfd_reap`'s result (positive values only).
  init?(reaped value: Int32) {
    if value & RPROC_EXITED != 0 {
      self = .exited(code: value & 0xFF)
    } else if value & RPROC_SIGNALED != 0 {
      self = .signaled(signal: value & 0xFF, coreDumped: value & RPROC_CORE_DUMPED != 0)
    } else {
      return nil
    }
  }

  /// The crash it is, for the notifier: a memory fault (SIGSEGV, SIGBUS) is an MMU fault,
  /// anything else a fatal error. Linux: `RPROC_MMUFAULT`, `RPROC_FATAL_ERROR`.
  public var crashType: CrashType {
    if case .signaled(let signal, _) = self, signal == SIGSEGV || signal == SIGBUS { return .mmuFault }
    return .fatalError
  }

  public var description: String {
    switch self {
    case .exited(let code): "exited with status \(code)"
    case .signaled(let signal, let core):
      "killed by \(Self.name(of: signal))\(core ? " (core dumped)" : "")"
    case .unknown: "exited (not a child of this host, so its exit status is unknown)"
    }
  }

  /// "SIGSEGV", or "signal 40".
  public static func name(of signal: Int32) -> String {
    let names: [Int32: String] = [
      SIGHUP: "SIGHUP", SIGINT: "SIGINT", SIGQUIT: "SIGQUIT", SIGILL: "SIGILL", SIGTRAP: "SIGTRAP",
      SIGABRT: "SIGABRT", SIGBUS: "SIGBUS", SIGFPE: "SIGFPE", SIGKILL: "SIGKILL", SIGUSR1: "SIGUSR1",
      SIGSEGV: "SIGSEGV", SIGUSR2: "SIGUSR2", SIGPIPE: "SIGPIPE", SIGALRM: "SIGALRM", SIGTERM: "SIGTERM",
      SIGSYS: "SIGSYS", SIGXCPU: "SIGXCPU", SIGXFSZ: "SIGXFSZ",
    ]
    return names[signal] ?? "signal \(signal)"
  }
}
