/// Why writing or reading a capture failed.
public struct PacketCaptureError: Error, Hashable, Sendable, CustomStringConvertible {
  public struct Code: Hashable, Sendable, CustomStringConvertible {
    private enum Wrapped: Hashable, Sendable { case io, malformed, invalidArgument, closed }
    private let wrapped: Wrapped
    private init(_ wrapped: Wrapped) { self.wrapped = wrapped }

    /// The file could not be created or written.
    public static var io: Self { Self(.io) }
    /// A file being read is not well-formed pcapng; the message names the block and offset.
    public static var malformed: Self { Self(.malformed) }
    /// A packet or interface the caller gave cannot be written (unknown interface, too long).
    public static var invalidArgument: Self { Self(.invalidArgument) }
    /// The writer was closed.
    public static var closed: Self { Self(.closed) }

    public var description: String {
      switch wrapped {
      case .io: "I/O error"
      case .malformed: "malformed capture"
      case .invalidArgument: "invalid argument"
      case .closed: "closed"
      }
    }
  }

  public var code: Code
  /// What failed, with the offsets and numbers involved.
  public var message: String

  public init(_ code: Code, _ message: String) {
    self.code = code
    self.message = message
  }

  public var description: String { message }
}
