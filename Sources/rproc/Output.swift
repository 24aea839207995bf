import Foundation

/// Printing helpers shared by the subcommands.
enum Output {
  /// Prints `value` as pretty JSON with sorted keys.
  static func json<T: Encodable>(_ value: T) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    print(String(decoding: try encoder.encode(value), as: UTF8.self))
  }

  /// Writes one line to standard error.
  static func error(_ line: String) {
    FileHandle.standardError.write(Data((line + "\n").utf8))
  }
}

/// Zero-padded lowercase hex, as readelf prints addresses.
func hex<T: BinaryInteger>(_ value: T, width: Int = 8) -> String {
  let digits = String(value, radix: 16)
  return "0x" + String(repeating: "0", count: max(0, width - digits.count)) + digits
}
