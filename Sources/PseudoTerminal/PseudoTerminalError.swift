import SharedMemory

/// Why opening, reading or writing a pseudo-terminal failed.
public struct PseudoTerminalError: Error, Hashable, Sendable, CustomStringConvertible {
  public struct Code: Hashable, Sendable, CustomStringConvertible {
    private enum Wrapped: Hashable, Sendable { case systemCall, closed }
    private let wrapped: Wrapped
    private init(_ wrapped: Wrapped) { self.wrapped = wrapped }

    /// A system call failed; ``PseudoTerminalError/errno`` says why.
    public static var systemCall: Self { Self(.systemCall) }
    /// ``PseudoTerminal/shutdown()`` was called: no more reads or writes.
    public static var closed: Self { Self(.closed) }

    public var description: String {
      switch wrapped {
      case .systemCall: "system call failed"
      case .closed: "closed"
      }
    }
  }

  public var code: Code
  /// What failed, naming the terminal.
  public var message: String
  /// Set when a system call failed.
  public var errno: Int32?

  public init(_ code: Code, _ message: String, errno: Int32? = nil) {
    self.code = code
    self.message = message
    self.errno = errno
  }

  public var description: String {
    guard let errno else { return message }
    return "\(message): \(FileDescriptorIO.describe(errno: errno)) (errno \(errno))"
  }
}
