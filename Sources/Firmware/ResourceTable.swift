import SharedMemory

/// A parsed and checked resource table. Wire: `struct resource_table` and its entries.
///
/// Parsing applies the table-walk rules of Linux's `rproc_handle_resources` and each
/// handler's length checks, and more: entries may not start inside the header or overlap,
/// names must be NUL-terminated, reserved fields must be zero, a vdev has at most two
/// vrings whose sizes and alignments are powers of two. Every refusal names the entry, its
/// offset and the numbers.
public struct ResourceTable: Hashable, Sendable {
  /// Wire: `FW_RSC_ADDR_ANY`.
  public static let anyAddress: UInt32 = 0xFFFF_FFFF
  /// The only version Linux supports. Wire: `ver`.
  public static let supportedVersion: UInt32 = 1
  /// Bytes of the fixed header before `offset[]`.
  public static let headerSize = 16
  /// Bytes of a name field. Wire: `RPROC_MAX_NAME_LEN`.
  public static let nameSize = 32
  /// Wire: `ARRAY_SIZE(rvdev->vring)`.
  public static let maxVringsPerDevice = 2

  /// The table as the firmware provided it.
  public let bytes: [UInt8]
  public let byteOrder: ByteOrder
  /// Entries in `offset[]` order.
  public let entries: [ResourceEntry]
  /// Entries skipped (unknown types, unhandled vendor types), one line each.
  public let warnings: [String]

  /// Bytes of the table (the `.resource_table` section's size).
  public var byteCount: Int { bytes.count }

  /// Parses a table.
  /// - Parameter vendorHandler: given each vendor entry (types 128...512); without one,
  ///   vendor entries are skipped with a warning.
  public init(
    bytes: [UInt8], byteOrder: ByteOrder, vendorHandler: VendorResourceHandler? = nil
  ) throws(FirmwareError) {
    self.bytes = bytes
    self.byteOrder = byteOrder
    let r = ByteReader(bytes: bytes, order: byteOrder, what: "table", code: .badResourceTable)
    guard bytes.count >= Self.headerSize else {
      throw FirmwareError(
        .badResourceTable,
        "header-less resource table: \(hex(bytes.count)) bytes, the header needs \(hex(Self.headerSize))")
    }
    let version = try r.u32(0, "ver")
    guard version == Self.supportedVersion else {
      throw FirmwareError(.badResourceTable, "unsupported resource table version \(version) at 0x0, expected 1")
    }
    let count = try r.u32(4, "num")
    let reserved = (try r.u32(8, "reserved[0]"), try r.u32(12, "reserved[1]"))
    guard reserved == (0, 0) else {
      throw FirmwareError(
        .badResourceTable,
        "non-zero reserved bytes in the table header at 0x8: \(hex(reserved.0)) \(hex(reserved.1))")
    }
    let headerEnd = UInt64(Self.headerSize) + 4 * UInt64(count)
    guard headerEnd <= UInt64(bytes.count) else {
      throw FirmwareError(
        .badResourceTable,
        "resource table incomplete: num \(count) needs \(hex(headerEnd)) bytes of header, table has \(hex(bytes.count))")
    }
    var parser = EntryParser(reader: r, headerEnd: Int(headerEnd), vendorHandler: vendorHandler)
    for index in 0..<Int(count) {
      try parser.parse(index: index)
    }
    try parser.checkOverlaps()
    entries = parser.entries
    warnings = parser.warnings
  }

  /// The carveouts, with their entries.
  public var carveouts: [(entry: ResourceEntry, carveout: MemoryResource)] {
    entries.compactMap { if case .carveout(let c) = $0.kind { ($0, c) } else { nil } }
  }

  /// The trace buffers, with their entries.
  public var traces: [(entry: ResourceEntry, trace: TraceResource)] {
    entries.compactMap { if case .trace(let t) = $0.kind { ($0, t) } else { nil } }
  }

  /// The virtio devices, with their entries.
  public var virtioDevices: [(entry: ResourceEntry, device: VirtioDeviceResource)] {
    entries.compactMap { if case .virtioDevice(let v) = $0.kind { ($0, v) } else { nil } }
  }
}
