import Virtio

/// Why an rpmsg operation failed.
///
/// Local misuse (a payload over the MTU, a send to `RPMSG_ADDR_ANY`, an address already
/// taken) throws at the caller. Bad input from the peer never throws at anyone: it is
/// dropped, counted in ``RPMsgCounters`` and logged; a peer that breaks the ring protocol
/// breaks the bus, and later operations throw ``Code-swift.struct/transport``.
public struct RPMsgError: Error, Hashable, Sendable, CustomStringConvertible {
  public struct Code: Hashable, Sendable, CustomStringConvertible {
    private enum Wrapped: Hashable, Sendable {
      case messageTooLong, invalidAddress, addressInUse, noBuffer, timedOut, cancelled
      case reset, notRunning, endpointDestroyed, transport, invalidArgument, notReady
    }
    private let wrapped: Wrapped
    private init(_ wrapped: Wrapped) { self.wrapped = wrapped }

    /// The payload is longer than the MTU. Linux: `-EMSGSIZE`.
    public static var messageTooLong: Self { Self(.messageTooLong) }
    /// A source or destination is `RPMSG_ADDR_ANY` or otherwise unusable. Linux: `-EINVAL`.
    public static var invalidAddress: Self { Self(.invalidAddress) }
    /// The requested endpoint address is taken. Linux: `-EBUSY` ("address already in use").
    public static var addressInUse: Self { Self(.addressInUse) }
    /// No transmit buffer is free right now (try-send). Linux: `-ENOMEM`.
    public static var noBuffer: Self { Self(.noBuffer) }
    /// A blocking send waited its whole timeout. Linux: `-ERESTARTSYS` after 15 s.
    public static var timedOut: Self { Self(.timedOut) }
    /// The task waiting to send was cancelled.
    public static var cancelled: Self { Self(.cancelled) }
    /// The remote stopped or crashed and the bus was reset; the endpoint is gone.
    public static var reset: Self { Self(.reset) }
    /// The bus is not started (or no longer running).
    public static var notRunning: Self { Self(.notRunning) }
    /// The endpoint was destroyed.
    public static var endpointDestroyed: Self { Self(.endpointDestroyed) }
    /// The vrings or the vdev handshake failed (the peer broke the protocol).
    public static var transport: Self { Self(.transport) }
    /// A parameter is unusable (a pool too small, a vdev that is not rpmsg…).
    public static var invalidArgument: Self { Self(.invalidArgument) }
    /// The remote side waits for the host's DRIVER_OK.
    public static var notReady: Self { Self(.notReady) }

    public var description: String {
      switch wrapped {
      case .messageTooLong: "message too long"
      case .invalidAddress: "invalid address"
      case .addressInUse: "address in use"
      case .noBuffer: "no buffer"
      case .timedOut: "timed out"
      case .cancelled: "cancelled"
      case .reset: "reset"
      case .notRunning: "not running"
      case .endpointDestroyed: "endpoint destroyed"
      case .transport: "transport"
      case .invalidArgument: "invalid argument"
      case .notReady: "not ready"
      }
    }
  }

  public var code: Code
  /// What went wrong, with the numbers.
  public var message: String

  public init(_ code: Code, _ message: String) {
    self.code = code
    self.message = message
  }

  init(_ error: VirtioError) {
    self.init(.transport, error.description)
  }

  public var description: String { "\(code): \(message)" }
}
