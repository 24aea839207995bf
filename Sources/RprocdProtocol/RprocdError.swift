import SharedMemory

/// Why talking to rprocd failed: the socket, the framing, the protocol version, or the
/// daemon refusing a request (then ``errnoName`` and ``errno`` say why, as Linux would).
public struct RprocdError: Error, Hashable, Sendable, CustomStringConvertible {
  public struct Code: Hashable, Sendable, CustomStringConvertible {
    private enum Wrapped: Hashable, Sendable {
      case notRunning, permissionDenied, socket, malformed, tooLarge, unsupportedVersion, closed, refused
    }
    private let wrapped: Wrapped
    private init(_ wrapped: Wrapped) { self.wrapped = wrapped }

    /// No daemon listens at the socket path (`ENOENT` or `ECONNREFUSED` on connect).
    public static var notRunning: Self { Self(.notRunning) }
    /// The socket's permissions keep this user out (`EACCES` on connect).
    public static var permissionDenied: Self { Self(.permissionDenied) }
    /// A socket call failed; ``RprocdError/errno`` says why.
    public static var socket: Self { Self(.socket) }
    /// A frame was not a JSON object of the protocol (bad length, JSON, nesting, field).
    public static var malformed: Self { Self(.malformed) }
    /// A frame was longer than the receiver accepts.
    public static var tooLarge: Self { Self(.tooLarge) }
    /// The peer speaks another protocol version.
    public static var unsupportedVersion: Self { Self(.unsupportedVersion) }
    /// The connection ended.
    public static var closed: Self { Self(.closed) }
    /// The daemon refused the request; ``RprocdError/errnoName`` says why.
    public static var refused: Self { Self(.refused) }

    public var description: String {
      switch wrapped {
      case .notRunning: "not running"
      case .permissionDenied: "permission denied"
      case .socket: "socket error"
      case .malformed: "malformed frame"
      case .tooLarge: "frame too large"
      case .unsupportedVersion: "unsupported protocol version"
      case .closed: "connection closed"
      case .refused: "refused"
      }
    }
  }

  public var code: Code
  /// What happened, and what to do next when there is something to do.
  public var message: String
  /// For ``Code/refused``: the errno the daemon reported (22 for EINVAL); for
  /// ``Code/socket``: the failed call's errno.
  public var errno: Int32?
  /// For ``Code/refused``: the errno's name (`EBUSY`) or a protocol code (`EPROTO`).
  public var errnoName: String?

  public init(_ code: Code, _ message: String, errno: Int32? = nil, errnoName: String? = nil) {
    self.code = code
    self.message = message
    self.errno = errno
    self.errnoName = errnoName
  }

  /// A refusal the daemon sent.
  public init(_ info: ErrorInfo) {
    self.init(.refused, info.message, errno: info.errno, errnoName: info.code)
  }

  /// How the error travels in a response.
  public var info: ErrorInfo {
    ErrorInfo(code: errnoName ?? Self.protocolCode(code), errno: errno, message: message)
  }

  static func protocolCode(_ code: Code) -> String {
    switch code {
    case .unsupportedVersion: "EPROTONOSUPPORT"
    case .tooLarge: "EMSGSIZE"
    default: "EPROTO"
    }
  }

  public var description: String {
    guard code == .socket, let errno else { return message }
    return "\(message): \(FileDescriptorIO.describe(errno: errno))"
  }
}
