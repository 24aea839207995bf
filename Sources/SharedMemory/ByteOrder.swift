/// The byte order of multi-byte fields in shared memory.
///
/// Linux lays out the resource table, the vrings and rpmsg headers in the host's byte order;
/// we take it from the firmware's ELF `EI_DATA` instead, so big-endian firmware
/// (MIPS `-EB`) works on a little-endian host.
public enum ByteOrder: String, Hashable, Sendable, CaseIterable {
  case little
  case big

  /// The byte order of the machine this code runs on.
  public static var host: ByteOrder {
    UInt16(littleEndian: 1) == 1 ? .little : .big
  }
}

extension FixedWidthInteger {
  /// Converts between this byte order and the host's (the conversion is its own inverse).
  @inlinable @inline(__always)
  public func convertingByteOrder(_ order: ByteOrder) -> Self {
    switch order {
    case .little: littleEndian
    case .big: bigEndian
    }
  }
}
