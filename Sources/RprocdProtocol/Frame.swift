/// The framing of the rprocd socket protocol: every message is a 4-byte big-endian length
/// followed by that many bytes of UTF-8 JSON holding one object.
public enum Frame {
  /// The protocol version this build speaks (the `version` of `hello`).
  public static let protocolVersion = 1
  /// The most a client may send in one frame (requests are small; a message payload is at
  /// most 496 bytes).
  public static let maximumRequestBytes = 1 << 20
  /// The most the daemon sends in one frame (a core dump travels in one).
  public static let maximumResponseBytes = 256 << 20
  /// The deepest nesting of objects and arrays a request may have.
  public static let maximumNesting = 8

  /// The length header and `json`.
  public static func encode(_ json: [UInt8]) -> [UInt8] {
    let n = UInt32(json.count)
    return [UInt8(n >> 24), UInt8(truncatingIfNeeded: n >> 16), UInt8(truncatingIfNeeded: n >> 8),
            UInt8(truncatingIfNeeded: n)] + json
  }

  /// Throws unless `bytes` is one JSON object nested at most `maximumNesting` deep (checked
  /// before any JSON parser sees it, so a hostile client cannot make one recurse deeply).
  public static func checkShape(_ bytes: [UInt8], maximumNesting: Int = maximumNesting) throws(RprocdError) {
    guard let first = bytes.first(where: { ![0x20, 0x09, 0x0A, 0x0D].contains($0) }), first == UInt8(ascii: "{")
    else { throw RprocdError(.malformed, "a frame must hold one JSON object") }
    var depth = 0
    var inString = false
    var escaped = false
    for byte in bytes {
      if inString {
        if escaped { escaped = false } else if byte == UInt8(ascii: "\\") { escaped = true } else if byte == UInt8(ascii: "\"") { inString = false }
        continue
      }
      switch byte {
      case UInt8(ascii: "\""): inString = true
      case UInt8(ascii: "{"), UInt8(ascii: "["):
        depth += 1
        guard depth <= maximumNesting else {
          throw RprocdError(.malformed, "JSON nested more than \(maximumNesting) deep")
        }
      case UInt8(ascii: "}"), UInt8(ascii: "]"): depth -= 1
      default: break
      }
    }
  }
}

/// Splits a byte stream into frames.
public struct FrameDecoder: Sendable {
  private var buffer: [UInt8] = []
  private var start = 0
  public let maximumFrameBytes: Int

  public init(maximumFrameBytes: Int) {
    self.maximumFrameBytes = maximumFrameBytes
  }

  /// Bytes received and not yet returned as frames.
  public var pendingByteCount: Int { buffer.count - start }

  public mutating func append(_ bytes: [UInt8]) {
    if start > 0, start == buffer.count {
      buffer.removeAll(keepingCapacity: true)
      start = 0
    }
    buffer += bytes
  }

  /// The next whole frame's JSON, or nil until more bytes arrive. Throws for an empty or
  /// oversized frame; the stream cannot be resynchronised after that.
  public mutating func next() throws(RprocdError) -> [UInt8]? {
    guard buffer.count - start >= 4 else { return nil }
    let length = Int(buffer[start]) << 24 | Int(buffer[start + 1]) << 16 | Int(buffer[start + 2]) << 8 | Int(buffer[start + 3])
    guard length > 0 else { throw RprocdError(.malformed, "empty frame") }
    guard length <= maximumFrameBytes else {
      throw RprocdError(.tooLarge, "frame of \(length) bytes; at most \(maximumFrameBytes) are accepted")
    }
    guard buffer.count - start - 4 >= length else { return nil }
    let frame = Array(buffer[(start + 4)..<(start + 4 + length)])
    start += 4 + length
    if start > 65536 {
      buffer.removeFirst(start)
      start = 0
    }
    return frame
  }
}
