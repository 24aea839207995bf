/// Why an access to shared memory, or an operation on a mapping, failed.
///
/// Offsets and lengths usually come from the remote side, so a bad one is an input error
/// that throws, never a trap.
public struct SharedMemoryError: Error, Hashable, Sendable, CustomStringConvertible {
  public struct Code: Hashable, Sendable, CustomStringConvertible {
    private enum Wrapped: Hashable, Sendable {
      case outOfBounds, misaligned, invalidArgument, systemCall
    }
    private let wrapped: Wrapped
    private init(_ wrapped: Wrapped) { self.wrapped = wrapped }

    /// The range `[offset, offset + length)` is not inside the region.
    public static var outOfBounds: Self { Self(.outOfBounds) }
    /// An atomic access was not naturally aligned.
    public static var misaligned: Self { Self(.misaligned) }
    /// A size or name given to a mapping was unusable.
    public static var invalidArgument: Self { Self(.invalidArgument) }
    /// A system call failed; ``SharedMemoryError/errno`` says why.
    public static var systemCall: Self { Self(.systemCall) }

    public var description: String {
      switch wrapped {
      case .outOfBounds: "out of bounds"
      case .misaligned: "misaligned"
      case .invalidArgument: "invalid argument"
      case .systemCall: "system call failed"
      }
    }
  }

  public var code: Code
  /// What was accessed, with the numbers involved.
  public var message: String
  /// Set when a system call failed.
  public var errno: Int32?

  public init(_ code: Code, _ message: String, errno: Int32? = nil) {
    self.code = code
    self.message = message
    self.errno = errno
  }

  public var description: String {
    if let errno { return "\(message) (errno \(errno))" }
    return message
  }
}
