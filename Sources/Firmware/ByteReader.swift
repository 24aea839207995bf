import SharedMemory

/// Bounds-checked reads of fixed-width integers from an image held in memory.
///
/// Every read names the field it is for, so a short file produces an error such as
/// "e_phoff at 0x20: needs 8 bytes, file has 0x24".
struct ByteReader: Sendable {
  let bytes: [UInt8]
  let order: ByteOrder
  /// What the bytes are, for messages ("file", "resource table").
  let what: String
  let code: FirmwareError.Code

  var count: Int { bytes.count }

  func check(_ offset: Int, _ width: Int, _ field: @autoclosure () -> String) throws(FirmwareError) {
    guard offset >= 0, width >= 0, width <= bytes.count, offset <= bytes.count - width else {
      throw FirmwareError(
        code,
        "\(field()) at \(hex(offset)): needs \(width) bytes, \(what) has \(hex(bytes.count))")
    }
  }

  func u8(_ offset: Int, _ field: @autoclosure () -> String) throws(FirmwareError) -> UInt8 {
    try check(offset, 1, field())
    return bytes[offset]
  }

  func integer<T: FixedWidthInteger & UnsignedInteger>(
    _: T.Type, _ offset: Int, _ field: @autoclosure () -> String
  ) throws(FirmwareError) -> T {
    let width = MemoryLayout<T>.size
    try check(offset, width, field())
    var value: T = 0
    switch order {
    case .little:
      for index in stride(from: width - 1, through: 0, by: -1) {
        value = value << 8 | T(bytes[offset + index])
      }
    case .big:
      for index in 0..<width { value = value << 8 | T(bytes[offset + index]) }
    }
    return value
  }

  func u16(_ offset: Int, _ field: @autoclosure () -> String) throws(FirmwareError) -> UInt16 {
    try integer(UInt16.self, offset, field())
  }

  func u32(_ offset: Int, _ field: @autoclosure () -> String) throws(FirmwareError) -> UInt32 {
    try integer(UInt32.self, offset, field())
  }

  func u64(_ offset: Int, _ field: @autoclosure () -> String) throws(FirmwareError) -> UInt64 {
    try integer(UInt64.self, offset, field())
  }

  /// A NUL-terminated string of at most `limit` bytes starting at `offset`, or nil when no NUL
  /// occurs within the limit (or before the end of the bytes).
  func cString(_ offset: Int, limit: Int) -> String? {
    guard offset >= 0, offset < bytes.count else { return nil }
    let end = min(bytes.count, offset + limit)
    guard let nul = bytes[offset..<end].firstIndex(of: 0) else { return nil }
    return String(decoding: bytes[offset..<nul], as: UTF8.self)
  }
}
