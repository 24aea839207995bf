/// The error type of the HostCPUs module: why CPUs cannot be given to a remote processor.
///
/// The platforms turn it into their own errors with the same code and message
/// (`RemoteprocError.invalidArgument` / `.busy` for the process platform).
package struct HostCPUError: Error, Hashable, Sendable, CustomStringConvertible {
  package struct Code: Hashable, Sendable, CustomStringConvertible {
    private enum Wrapped: Hashable, Sendable {
      case invalidCPUs, busy, system
    }
    private var wrapped: Wrapped
    private init(_ wrapped: Wrapped) { self.wrapped = wrapped }

    /// A CPU that is out of range, listed twice, missing or offline, or a list that would
    /// leave the host no CPU. Linux: `-EINVAL`.
    package static var invalidCPUs: Self { Self(.invalidCPUs) }
    /// Another remote processor of this process holds one of the CPUs, or the CPUs still
    /// free would not leave the host one. Linux: `-EBUSY`.
    package static var busy: Self { Self(.busy) }
    /// A system call failed (`sched_setaffinity`); ``HostCPUError/errno`` says why.
    package static var system: Self { Self(.system) }

    package var description: String { "\(wrapped)" }
  }

  package var code: Code
  package var message: String
  /// Set when a system call failed.
  package var errno: Int32?

  package init(_ code: Code, _ message: String, errno: Int32? = nil) {
    self.code = code
    self.message = message
    self.errno = errno
  }

  package var description: String {
    if let errno { return "\(message) (errno \(errno))" }
    return message
  }
}
