/// Builds pcapng blocks in the writer host's byte order (readers learn it from the Section
/// Header Block's byte-order magic). Spec: draft-ietf-opsawg-pcapng, sections 3 and 4.
struct BlockEncoder {
  enum BlockType: UInt32 {
    case sectionHeader = 0x0A0D_0D0A
    case interfaceDescription = 0x0000_0001
    case enhancedPacket = 0x0000_0006
  }

  /// Option codes used here (each block type numbers its own options).
  enum Option {
    static let endOfOptions: UInt16 = 0
    /// `opt_comment`, valid in every block.
    static let comment: UInt16 = 1
    /// Section Header Block: `shb_hardware`, `shb_os`, `shb_userappl`.
    static let hardware: UInt16 = 2
    static let operatingSystem: UInt16 = 3
    static let userApplication: UInt16 = 4
    /// Interface Description Block: `if_name`, `if_description`, `if_tsresol`.
    static let interfaceName: UInt16 = 2
    static let interfaceDescription: UInt16 = 3
    static let timestampResolution: UInt16 = 9
    /// Enhanced Packet Block: `epb_flags`.
    static let packetFlags: UInt16 = 2
  }

  static let byteOrderMagic: UInt32 = 0x1A2B_3C4D

  private(set) var body: [UInt8] = []
  private var hasOptions = false

  mutating func append<T: FixedWidthInteger>(_ value: T) {
    let native = value.littleEndian == value
    for index in 0..<T.bitWidth / 8 {
      let shift = native ? index * 8 : (T.bitWidth / 8 - 1 - index) * 8
      body.append(UInt8(truncatingIfNeeded: value >> shift))
    }
  }

  mutating func append(_ bytes: [UInt8]) {
    body += bytes
    body += [UInt8](repeating: 0, count: Self.padding(bytes.count))
  }

  mutating func appendOption(_ code: UInt16, _ value: [UInt8]) {
    hasOptions = true
    append(code)
    append(UInt16(value.count))
    append(value)
  }

  mutating func appendOption(_ code: UInt16, _ text: String) {
    appendOption(code, Array(text.utf8))
  }

  /// The whole block: type, total length, body, options' end marker, total length.
  func block(_ type: BlockType) -> [UInt8] {
    var finished = self
    if hasOptions {
      finished.append(Option.endOfOptions)
      finished.append(UInt16(0))
    }
    let total = UInt32(finished.body.count + 12)
    var out = BlockEncoder()
    out.append(type.rawValue)
    out.append(total)
    out.body += finished.body
    out.append(total)
    return out.body
  }

  static func padding(_ count: Int) -> Int { (4 - count % 4) % 4 }

  /// Bytes of `text` that fit an option (at most 65535), cut at a character boundary.
  static func optionText(_ text: String) -> String {
    var result = text
    while result.utf8.count > 65535 { result.removeLast() }
    return result
  }
}
