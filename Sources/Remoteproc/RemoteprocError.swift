import Firmware
import SharedMemory

/// Why a remote-processor operation failed, with the errno Linux would return.
///
/// Attribute writes report ``errno`` the way a sysfs write would (`EBUSY` for a firmware
/// change while running, `EINVAL` for an unknown word), and ``message`` says what to do.
public struct RemoteprocError: Error, Hashable, Sendable, CustomStringConvertible {
  public struct Code: Hashable, Sendable, CustomStringConvertible {
    private enum Wrapped: Hashable, Sendable {
      case invalidArgument, busy, notFound, outOfMemory, invalidState, malformedFirmware
      case badResourceTable, addressNotMapped, platform, crashed, unsupported, timedOut, readOnly
    }
    private let wrapped: Wrapped
    private init(_ wrapped: Wrapped) { self.wrapped = wrapped }

    /// A word or value the caller gave is not valid. Linux: `-EINVAL`.
    public static var invalidArgument: Self { Self(.invalidArgument) }
    /// The processor is in a state where this cannot happen now. Linux: `-EBUSY`.
    public static var busy: Self { Self(.busy) }
    /// A firmware file or a processor does not exist. Linux: `-ENOENT`.
    public static var notFound: Self { Self(.notFound) }
    /// Memory for a carveout, vring or buffer pool could not be found. Linux: `-ENOMEM`.
    public static var outOfMemory: Self { Self(.outOfMemory) }
    /// The operation does not apply to the current state. Linux: `-EINVAL`.
    public static var invalidState: Self { Self(.invalidState) }
    /// The image is not a loadable ELF for this core. Linux: `-EINVAL` from `sanity_check`.
    public static var malformedFirmware: Self { Self(.malformedFirmware) }
    /// The resource table is invalid. Linux: `-EINVAL` from a resource handler.
    public static var badResourceTable: Self { Self(.badResourceTable) }
    /// A device address has no backing memory. Linux: `da_to_va` returned NULL.
    public static var addressNotMapped: Self { Self(.addressNotMapped) }
    /// The platform failed an operation (start, stop, attach…). Linux: the op's error.
    public static var platform: Self { Self(.platform) }
    /// The processor crashed while the operation was in progress.
    public static var crashed: Self { Self(.crashed) }
    /// The platform does not provide this operation. Linux: `-EINVAL` for a NULL op.
    public static var unsupported: Self { Self(.unsupported) }
    /// The attribute cannot be written. Linux: `-EACCES` from the VFS on a read-only file.
    public static var readOnly: Self { Self(.readOnly) }
    /// The remote did not answer in time. Linux: `-ETIMEDOUT`.
    public static var timedOut: Self { Self(.timedOut) }

    /// The errno Linux returns for this kind of failure.
    public var errno: Int32 {
      switch wrapped {
      case .invalidArgument, .invalidState, .malformedFirmware, .badResourceTable, .addressNotMapped,
        .unsupported:
        22  // EINVAL
      case .busy: 16  // EBUSY
      case .notFound: 2  // ENOENT
      case .outOfMemory: 12  // ENOMEM
      case .platform, .crashed: 5  // EIO
      case .timedOut: 110  // ETIMEDOUT
      case .readOnly: 13  // EACCES
      }
    }

    /// The errno's symbolic name.
    public var errnoName: String {
      switch errno {
      case 22: "EINVAL"
      case 16: "EBUSY"
      case 2: "ENOENT"
      case 12: "ENOMEM"
      case 110: "ETIMEDOUT"
      case 13: "EACCES"
      default: "EIO"
      }
    }

    public var description: String {
      switch wrapped {
      case .invalidArgument: "invalid argument"
      case .busy: "busy"
      case .notFound: "not found"
      case .outOfMemory: "out of memory"
      case .invalidState: "invalid state"
      case .malformedFirmware: "malformed firmware"
      case .badResourceTable: "bad resource table"
      case .addressNotMapped: "address not mapped"
      case .platform: "platform error"
      case .crashed: "crashed"
      case .unsupported: "unsupported"
      case .timedOut: "timed out"
      case .readOnly: "read-only"
      }
    }
  }

  public var code: Code
  /// What went wrong, with the numbers, and what to do next when there is something to do.
  public var message: String

  public init(_ code: Code, _ message: String) {
    self.code = code
    self.message = message
  }

  /// The errno a sysfs write would fail with.
  public var errno: Int32 { code.errno }

  public var description: String { message }
}

extension RemoteprocError {
  init(_ error: FirmwareError, firmware: String) {
    let code: Code =
      if error.code == .addressNotMapped { .addressNotMapped }
      else if error.code == .badResourceTable { .badResourceTable }
      else if error.code == .unreadable || error.code == .notFound { .notFound }
      else { .malformedFirmware }
    self.init(code, "\(firmware): \(error.message)")
  }

  init(_ error: SharedMemoryError, _ what: String) {
    self.init(error.code == .systemCall ? .outOfMemory : .addressNotMapped, "\(what): \(error.message)")
  }
}

/// `0x` and lowercase hex, as Linux prints addresses.
func hex<T: BinaryInteger>(_ value: T) -> String { "0x" + String(value, radix: 16) }
