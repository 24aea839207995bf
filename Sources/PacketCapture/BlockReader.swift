/// Bounds-checked integer reads from one block, in the section's byte order. Callers check
/// `count` before reading fixed fields; ``options(from:block:at:)`` checks each option.
struct BlockReader {
  private let bytes: ArraySlice<UInt8>
  private let littleEndian: Bool

  init(_ bytes: ArraySlice<UInt8>, littleEndian: Bool) {
    self.bytes = bytes
    self.littleEndian = littleEndian
  }

  var count: Int { bytes.count }

  func bytes(at offset: Int, count: Int) -> [UInt8] {
    Array(bytes[bytes.startIndex + offset..<bytes.startIndex + offset + count])
  }

  private func integer<T: FixedWidthInteger>(_: T.Type, at offset: Int) -> T {
    let field = bytes(at: offset, count: T.bitWidth / 8)
    let ordered = littleEndian ? field.reversed() : field
    return ordered.reduce(T.zero) { $0 << 8 | T($1) }
  }

  func u16(at offset: Int) -> UInt16 { integer(UInt16.self, at: offset) }
  func u32(at offset: Int) -> UInt32 { integer(UInt32.self, at: offset) }

  /// The options from `start` to the end of the body, up to `opt_endofopt`.
  func options(from start: Int, block: String, at offset: Int) throws(PacketCaptureError) -> [(code: UInt16, value: [UInt8])] {
    var result: [(code: UInt16, value: [UInt8])] = []
    var position = start
    while position < count {
      guard count - position >= 4 else {
        throw PacketCaptureError(.malformed, "\(block) at offset \(offset): option header cut at byte \(position)")
      }
      let code = u16(at: position)
      let length = Int(u16(at: position + 2))
      if code == BlockEncoder.Option.endOfOptions { break }
      guard length <= count - position - 4 else {
        throw PacketCaptureError(
          .malformed, "\(block) at offset \(offset): option \(code) of \(length) bytes overruns the block")
      }
      result.append((code, bytes(at: position + 4, count: length)))
      position += 4 + length + BlockEncoder.padding(length)
    }
    return result
  }
}
