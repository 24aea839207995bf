import Foundation

/// A pcapng file read back: what ``PacketCaptureWriter`` wrote, or any capture made of
/// Section Header, Interface Description and Enhanced Packet Blocks (other blocks are
/// skipped). Both byte orders are read, as the Section Header Block's magic says.
///
/// Every length and offset is checked; a file that is cut short or inconsistent throws
/// ``PacketCaptureError/Code/malformed`` naming the block and its offset.
public struct CaptureFile: Hashable, Sendable {
  /// The byte order of the (last) section: true for little-endian.
  public var isLittleEndian: Bool
  /// `shb_userappl` of the first section, if given.
  public var application: String?
  /// Interfaces of every section, in file order.
  public var interfaces: [CaptureInterface]
  /// Packets, with ``CapturedPacket/interface`` indexing ``interfaces`` and timestamps in
  /// nanoseconds since the Unix epoch.
  public var packets: [CapturedPacket]

  /// Reads the file at `path`.
  public init(contentsOf path: String) throws(PacketCaptureError) {
    guard let data = FileManager.default.contents(atPath: path) else {
      throw PacketCaptureError(.io, "cannot read \(path)")
    }
    try self.init(bytes: [UInt8](data))
  }

  /// Parses a whole file.
  public init(bytes: [UInt8]) throws(PacketCaptureError) {
    isLittleEndian = true
    application = nil
    interfaces = []
    packets = []
    var sectionInterfaceBase = 0
    var offset = 0
    var sawSection = false
    while offset < bytes.count {
      guard bytes.count - offset >= 12 else {
        throw PacketCaptureError(
          .malformed, "block at offset \(offset): \(bytes.count - offset) bytes left, a block needs at least 12")
      }
      var type = BlockReader(bytes[offset..<offset + 4], littleEndian: isLittleEndian).u32(at: 0)
      if type == BlockEncoder.BlockType.sectionHeader.rawValue {
        let magic = BlockReader(bytes[offset + 8..<offset + 12], littleEndian: true).u32(at: 0)
        switch magic {
        case BlockEncoder.byteOrderMagic: isLittleEndian = true
        case BlockEncoder.byteOrderMagic.byteSwapped: isLittleEndian = false
        default:
          throw PacketCaptureError(
            .malformed, "section header at offset \(offset): byte-order magic 0x\(String(magic, radix: 16))")
        }
        type = BlockEncoder.BlockType.sectionHeader.rawValue
        sectionInterfaceBase = interfaces.count
        sawSection = true
      } else if !sawSection {
        throw PacketCaptureError(.malformed, "file does not start with a section header block")
      }
      let header = BlockReader(bytes[offset..<offset + 12], littleEndian: isLittleEndian)
      let total = Int(header.u32(at: 4))
      guard total >= 12, total % 4 == 0, total <= bytes.count - offset else {
        throw PacketCaptureError(
          .malformed,
          "block type 0x\(String(type, radix: 16)) at offset \(offset): total length \(total) (\(bytes.count - offset) bytes left; must be a multiple of 4, at least 12)")
      }
      let block = BlockReader(bytes[offset..<offset + total], littleEndian: isLittleEndian)
      guard block.u32(at: total - 4) == UInt32(total) else {
        throw PacketCaptureError(
          .malformed, "block at offset \(offset): trailing length \(block.u32(at: total - 4)) differs from \(total)")
      }
      let body = BlockReader(bytes[offset + 8..<offset + total - 4], littleEndian: isLittleEndian)
      switch type {
      case BlockEncoder.BlockType.sectionHeader.rawValue:
        try readSectionHeader(body, at: offset)
      case BlockEncoder.BlockType.interfaceDescription.rawValue:
        interfaces.append(try Self.readInterface(body, at: offset))
      case BlockEncoder.BlockType.enhancedPacket.rawValue:
        packets.append(try readPacket(body, at: offset, interfaceBase: sectionInterfaceBase))
      default:
        break
      }
      offset += total
    }
    guard sawSection else { throw PacketCaptureError(.malformed, "empty file: no section header block") }
  }

  private mutating func readSectionHeader(_ body: BlockReader, at offset: Int) throws(PacketCaptureError) {
    guard body.count >= 16 else {
      throw PacketCaptureError(.malformed, "section header at offset \(offset): body of \(body.count) bytes, needs 16")
    }
    guard body.u16(at: 4) == 1 else {
      throw PacketCaptureError(.malformed, "section header at offset \(offset): major version \(body.u16(at: 4)), expected 1")
    }
    let options = try body.options(from: 16, block: "section header", at: offset)
    if application == nil, let text = options.first(where: { $0.code == BlockEncoder.Option.userApplication }) {
      application = String(decoding: text.value, as: UTF8.self)
    }
  }

  private static func readInterface(_ body: BlockReader, at offset: Int) throws(PacketCaptureError) -> CaptureInterface {
    guard body.count >= 8 else {
      throw PacketCaptureError(.malformed, "interface description at offset \(offset): body of \(body.count) bytes, needs 8")
    }
    var interface = CaptureInterface(
      name: "", linkType: LinkType(rawValue: body.u16(at: 0)), snapshotLength: body.u32(at: 4),
      timestampResolution: .microseconds)
    for option in try body.options(from: 8, block: "interface description", at: offset) {
      switch option.code {
      case BlockEncoder.Option.interfaceName: interface.name = String(decoding: option.value, as: UTF8.self)
      case BlockEncoder.Option.interfaceDescription:
        interface.description = String(decoding: option.value, as: UTF8.self)
      case BlockEncoder.Option.timestampResolution:
        guard option.value.count == 1, let resolution = TimestampResolution(rawValue: option.value[0]) else {
          throw PacketCaptureError(
            .malformed, "interface description at offset \(offset): if_tsresol \(option.value) is not 6 or 9")
        }
        interface.timestampResolution = resolution
      default: break
      }
    }
    return interface
  }

  private func readPacket(_ body: BlockReader, at offset: Int, interfaceBase: Int) throws(PacketCaptureError) -> CapturedPacket {
    guard body.count >= 20 else {
      throw PacketCaptureError(.malformed, "enhanced packet at offset \(offset): body of \(body.count) bytes, needs 20")
    }
    let interface = interfaceBase + Int(body.u32(at: 0))
    guard interfaces.indices.contains(interface) else {
      throw PacketCaptureError(
        .malformed, "enhanced packet at offset \(offset): interface \(body.u32(at: 0)) was not described")
    }
    let captured = Int(body.u32(at: 12))
    guard captured <= body.count - 20 else {
      throw PacketCaptureError(
        .malformed, "enhanced packet at offset \(offset): captured length \(captured) exceeds the \(body.count - 20) bytes of the block")
    }
    let units = UInt64(body.u32(at: 4)) << 32 | UInt64(body.u32(at: 8))
    let (timestamp, overflow) = units.multipliedReportingOverflow(
      by: interfaces[interface].timestampResolution.nanosecondsPerUnit)
    var packet = CapturedPacket(
      interface: interface, timestamp: overflow ? .max : timestamp, direction: nil,
      data: body.bytes(at: 20, count: captured), originalLength: Int(body.u32(at: 16)))
    let optionsStart = 20 + captured + BlockEncoder.padding(captured)
    for option in try body.options(from: optionsStart, block: "enhanced packet", at: offset) {
      switch option.code {
      case BlockEncoder.Option.packetFlags where option.value.count == 4:
        let flags = BlockReader(option.value[...], littleEndian: isLittleEndian).u32(at: 0)
        packet.direction = PacketDirection(rawValue: UInt8(flags & 3))
      case BlockEncoder.Option.comment: packet.comment = String(decoding: option.value, as: UTF8.self)
      default: break
      }
    }
    return packet
  }
}
