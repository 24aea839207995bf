import SharedMemory

/// Why describing, mounting or serving a sysfs-like tree failed, or why a file's `show` or
/// `store` refused a request.
///
/// When a ``SysfsFile`` closure throws, ``errno`` is what the `read(2)` or `write(2)` of the
/// user sees: `echo bad > state` prints `write error: Invalid argument` for `EINVAL`.
public struct SysfsFilesystemError: Error, Hashable, Sendable, CustomStringConvertible {
  public struct Code: Hashable, Sendable, CustomStringConvertible {
    private enum Wrapped: Hashable, Sendable {
      case invalidPath, exists, notFound, notDirectory, busy, systemCall, refused
    }
    private let wrapped: Wrapped
    private init(_ wrapped: Wrapped) { self.wrapped = wrapped }

    /// A path or name is empty, `.`/`..`, too long, or holds a NUL.
    public static var invalidPath: Self { Self(.invalidPath) }
    /// Something already exists at the path.
    public static var exists: Self { Self(.exists) }
    /// Nothing exists at the path.
    public static var notFound: Self { Self(.notFound) }
    /// A path goes through a file as if it were a directory.
    public static var notDirectory: Self { Self(.notDirectory) }
    /// The tree is already served by a mount.
    public static var busy: Self { Self(.busy) }
    /// A system call failed (opening `/dev/fuse`, `mount`, …); ``errno`` says why.
    public static var systemCall: Self { Self(.systemCall) }
    /// A file's `show` or `store` refused the request with ``errno``.
    public static var refused: Self { Self(.refused) }

    public var description: String {
      switch wrapped {
      case .invalidPath: "invalid path"
      case .exists: "exists"
      case .notFound: "not found"
      case .notDirectory: "not a directory"
      case .busy: "busy"
      case .systemCall: "system call failed"
      case .refused: "refused"
      }
    }
  }

  public var code: Code
  /// What failed, naming the path.
  public var message: String
  /// The errno a user's system call gets (for ``Code/refused``), or the errno of a failed
  /// system call (for ``Code/systemCall``).
  public var errno: Int32?

  public init(_ code: Code, _ message: String, errno: Int32? = nil) {
    self.code = code
    self.message = message
    self.errno = errno
  }

  /// A refusal from a `show` or `store`: the user's `read(2)`/`write(2)` fails with
  /// `errno`, e.g. `.refused(EINVAL, "Unrecognised option")`.
  public static func refused(_ errno: Int32, _ message: String) -> Self {
    Self(.refused, message, errno: errno)
  }

  public var description: String {
    guard let errno else { return message }
    return "\(message): \(FileDescriptorIO.describe(errno: errno)) (errno \(errno))"
  }
}
