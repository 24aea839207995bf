/// Why rprocd could not start (or a part of it failed), with what to do about it.
public struct DaemonError: Error, Hashable, Sendable, CustomStringConvertible {
  public struct Code: Hashable, Sendable, CustomStringConvertible {
    private enum Wrapped: Hashable, Sendable { case configuration, platform, mount, socket, alreadyRunning }
    private let wrapped: Wrapped
    private init(_ wrapped: Wrapped) { self.wrapped = wrapped }

    /// The configuration cannot be served as written.
    public static var configuration: Self { Self(.configuration) }
    /// A processor's platform could not be made.
    public static var platform: Self { Self(.platform) }
    /// The sysfs tree could not be mounted.
    public static var mount: Self { Self(.mount) }
    /// The socket could not be set up.
    public static var socket: Self { Self(.socket) }
    /// Another rprocd serves the socket.
    public static var alreadyRunning: Self { Self(.alreadyRunning) }

    public var description: String {
      switch wrapped {
      case .configuration: "configuration"
      case .platform: "platform"
      case .mount: "mount"
      case .socket: "socket"
      case .alreadyRunning: "already running"
      }
    }
  }

  public var code: Code
  public var message: String

  public init(_ code: Code, _ message: String) {
    self.code = code
    self.message = message
  }

  public var description: String { message }
}
