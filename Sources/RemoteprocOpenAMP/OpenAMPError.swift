import SharedMemory

/// Why talking to an OpenAMP Linux-machine peer failed. One error type for this module; the
/// host platform hands the same message on as a `RemoteprocError`.
public struct OpenAMPError: Error, Hashable, Sendable, CustomStringConvertible {
  public struct Code: Hashable, Sendable, CustomStringConvertible {
    private enum Wrapped: Hashable, Sendable {
      case invalidConfiguration, sharedMemory, badResourceTable, socket, peerClosed, stopped
    }
    private let wrapped: Wrapped
    private init(_ wrapped: Wrapped) { self.wrapped = wrapped }

    /// A value of ``OpenAMPConfiguration`` or ``OpenAMPRemote/TableOptions`` is unusable.
    public static var invalidConfiguration: Self { Self(.invalidConfiguration) }
    /// The shared-memory file is missing, too small, or cannot be mapped.
    public static var sharedMemory: Self { Self(.sharedMemory) }
    /// The resource table in the file is not one we can use.
    public static var badResourceTable: Self { Self(.badResourceTable) }
    /// The kick socket could not be made, connected, accepted or used.
    public static var socket: Self { Self(.socket) }
    /// The peer closed the kick socket.
    public static var peerClosed: Self { Self(.peerClosed) }
    /// ``OpenAMPRemote/stop()`` ended the wait.
    public static var stopped: Self { Self(.stopped) }

    public var description: String {
      switch wrapped {
      case .invalidConfiguration: "invalid configuration"
      case .sharedMemory: "shared memory"
      case .badResourceTable: "bad resource table"
      case .socket: "socket"
      case .peerClosed: "peer closed"
      case .stopped: "stopped"
      }
    }
  }

  public var code: Code
  /// What failed, naming the path and the numbers.
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
    return "\(message): \(FileDescriptorIO.describe(errno: errno))"
  }
}
