import SharedMemory

/// Why a virtio operation failed.
///
/// Rings, descriptors and the vdev resource entry live in memory the remote side can write,
/// so every bad value read from there is an input error that throws with the field and the
/// numbers ("used id 300 ≥ ring size 256"), never a trap. A queue that saw such a value is
/// *broken*: it keeps answering every later call with the same error.
public struct VirtioError: Error, Hashable, Sendable, CustomStringConvertible {
  public struct Code: Hashable, Sendable, CustomStringConvertible {
    private enum Wrapped: Hashable, Sendable {
      case invalidConfiguration, brokenQueue, addressNotMapped, noSpace, invalidState
      case outOfRange, invalidArgument
    }
    private let wrapped: Wrapped
    private init(_ wrapped: Wrapped) { self.wrapped = wrapped }

    /// A ring size, alignment, region or resource entry is unusable.
    /// Linux: `-EINVAL` from `rproc_handle_vdev` / `vring_create_virtqueue`.
    public static var invalidConfiguration: Self { Self(.invalidConfiguration) }
    /// The peer broke the ring protocol (a head ≥ num, an unknown used id, a looping chain…).
    /// Linux: `BAD_RING()`, which marks the virtqueue broken.
    public static var brokenQueue: Self { Self(.brokenQueue) }
    /// A descriptor names a device address outside every window of the address map.
    /// Linux (remoteproc): `rproc_da_to_va` returned NULL.
    public static var addressNotMapped: Self { Self(.addressNotMapped) }
    /// No free descriptor, or no buffer available. Linux: `-ENOSPC`.
    public static var noSpace: Self { Self(.noSpace) }
    /// The operation does not fit the device's state (for example the handshake order).
    public static var invalidState: Self { Self(.invalidState) }
    /// A config-space access reaches past `config_len`.
    public static var outOfRange: Self { Self(.outOfRange) }
    /// The caller passed a value the operation cannot use (an empty chain, a head it never
    /// took…). These are host-side mistakes, reported rather than trapped.
    public static var invalidArgument: Self { Self(.invalidArgument) }

    public var description: String {
      switch wrapped {
      case .invalidConfiguration: "invalid configuration"
      case .brokenQueue: "broken queue"
      case .addressNotMapped: "address not mapped"
      case .noSpace: "no space"
      case .invalidState: "invalid state"
      case .outOfRange: "out of range"
      case .invalidArgument: "invalid argument"
      }
    }
  }

  public var code: Code
  /// What went wrong, with the field and the numbers involved.
  public var message: String

  public init(_ code: Code, _ message: String) {
    self.code = code
    self.message = message
  }

  /// Wraps a shared-memory access failure. After a layout was validated these cannot happen;
  /// if one does, the memory was not what the layout promised.
  init(_ error: SharedMemoryError, _ what: String) {
    self.init(.invalidConfiguration, "\(what): \(error.message)")
  }

  public var description: String { "\(code): \(message)" }
}
