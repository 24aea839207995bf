import SharedMemory

/// Why the native-process contract could not be used. One error type for this module.
public struct NativeError: Error, Hashable, Sendable, CustomStringConvertible {
  public struct Code: Hashable, Sendable, CustomStringConvertible {
    private enum Wrapped: Hashable, Sendable { case notStartedByHost, badContract, memory, systemCall }
    private let wrapped: Wrapped
    private init(_ wrapped: Wrapped) { self.wrapped = wrapped }

    /// The process has no memfd in its environment (`RPROC_SHM_FD`).
    public static var notStartedByHost: Self { Self(.notStartedByHost) }
    /// The control page does not hold what the contract says (magic, version, layout).
    public static var badContract: Self { Self(.badContract) }
    /// An access to the shared memory failed (out of bounds, misaligned).
    public static var memory: Self { Self(.memory) }
    /// A system call failed; ``NativeError/errno`` says why.
    public static var systemCall: Self { Self(.systemCall) }

    public var description: String {
      switch wrapped {
      case .notStartedByHost: "not started by a host"
      case .badContract: "bad contract"
      case .memory: "shared memory"
      case .systemCall: "system call"
      }
    }
  }

  public var code: Code
  public var message: String
  public var errno: Int32?

  public init(_ code: Code, _ message: String, errno: Int32? = nil) {
    self.code = code
    self.message = message
    self.errno = errno
  }

  public init(_ error: SharedMemoryError, _ context: String) {
    self.init(error.code == .systemCall ? .systemCall : .memory, "\(context): \(error.message)", errno: error.errno)
  }

  public var description: String {
    var text = "\(code): \(message)"
    if let errno { text += " (\(FileDescriptorIO.describe(errno: errno)))" }
    return text
  }
}
