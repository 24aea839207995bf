/// Why a firmware image or its resource table was refused.
///
/// Every message names the field, where it is (a file or table offset) and the values
/// involved, so a firmware engineer can fix the image without a debugger.
public struct FirmwareError: Error, Hashable, Sendable, CustomStringConvertible {
  public struct Code: Hashable, Sendable, CustomStringConvertible {
    private enum Wrapped: Hashable, Sendable {
      case malformedImage, badResourceTable, addressNotMapped, notFound, unreadable
    }
    private let wrapped: Wrapped
    private init(_ wrapped: Wrapped) { self.wrapped = wrapped }

    /// The file is not a loadable ELF image. Linux: `-EINVAL` from `rproc_elf_sanity_check`
    /// or `rproc_elf_load_segments`.
    public static var malformedImage: Self { Self(.malformedImage) }
    /// The `.resource_table` section or one of its entries is invalid. Linux: `-EINVAL` from
    /// `rproc_elf_find_table` or a resource handler.
    public static var badResourceTable: Self { Self(.badResourceTable) }
    /// A segment's device address has no backing memory. Linux: `da_to_va` returned NULL.
    public static var addressNotMapped: Self { Self(.addressNotMapped) }
    /// A section or symbol asked for by name does not exist.
    public static var notFound: Self { Self(.notFound) }
    /// The file could not be read.
    public static var unreadable: Self { Self(.unreadable) }

    public var description: String {
      switch wrapped {
      case .malformedImage: "malformed image"
      case .badResourceTable: "bad resource table"
      case .addressNotMapped: "address not mapped"
      case .notFound: "not found"
      case .unreadable: "unreadable"
      }
    }
  }

  public var code: Code
  /// What is wrong, where, and the numbers involved.
  public var message: String

  public init(_ code: Code, _ message: String) {
    self.code = code
    self.message = message
  }

  public var description: String { message }
}

/// `0x` followed by lowercase hex, the way Linux prints addresses and sizes.
@inlinable
func hex<T: BinaryInteger>(_ value: T) -> String {
  "0x" + String(value, radix: 16)
}
