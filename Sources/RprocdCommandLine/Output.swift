import Foundation
import Glibc

/// Printing for the client commands: JSON, and text whose colors and progress lines appear
/// only on a terminal (and never with `NO_COLOR` set).
public enum Console {
  /// Prints `value` as pretty JSON with sorted keys, or (with `lines`) one compact line.
  public static func json<T: Encodable>(_ value: T, line: Bool = false) {
    let encoder = JSONEncoder()
    encoder.keyEncodingStrategy = .convertToSnakeCase
    encoder.outputFormatting = line ? [.sortedKeys, .withoutEscapingSlashes] : [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    guard let data = try? encoder.encode(value) else { return }
    FileHandle.standardOutput.write(data + Data("\n".utf8))
  }

  /// Writes `text` and a newline to standard output at once.
  public static func line(_ text: String) {
    FileHandle.standardOutput.write(Data((text + "\n").utf8))
  }

  /// Writes one line to standard error.
  public static func error(_ line: String) {
    FileHandle.standardError.write(Data((line + "\n").utf8))
  }

  public static var standardOutputIsTerminal: Bool { isatty(1) == 1 }
  public static var standardErrorIsTerminal: Bool { isatty(2) == 1 }
  static var colorAllowed: Bool { ProcessInfo.processInfo.environment["NO_COLOR"] == nil }

  /// Text in a color (ANSI SGR), only when standard output is a terminal.
  public static func styled(_ text: String, _ style: Style) -> String {
    guard standardOutputIsTerminal, colorAllowed else { return text }
    return "\u{1B}[\(style.rawValue)m\(text)\u{1B}[0m"
  }

  public enum Style: String, Sendable {
    case bold = "1", dim = "2", red = "31", green = "32", yellow = "33", cyan = "36"
  }

  /// The color of a processor state.
  public static func state(_ state: String) -> String {
    switch state {
    case "running", "attached": styled(state, .green)
    case "crashed": styled(state, .red)
    case "offline", "detached": styled(state, .dim)
    default: styled(state, .yellow)
    }
  }

  /// Shows `label…` on a terminal's standard error while `body` runs, then clears it.
  public static func progress<T>(_ label: String, _ body: () async throws -> T) async rethrows -> T {
    let shown = standardErrorIsTerminal && colorAllowed
    if shown { FileHandle.standardError.write(Data("\(label)…".utf8)) }
    defer { if shown { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) } }
    return try await body()
  }

  /// Rows padded into columns.
  public static func table(_ rows: [[String]]) -> String {
    guard let width = rows.map(\.count).max() else { return "" }
    var widths = [Int](repeating: 0, count: width)
    for row in rows { for (i, cell) in row.enumerated() { widths[i] = max(widths[i], visibleCount(cell)) } }
    return rows.map { row in
      row.enumerated().map { i, cell in
        i == row.count - 1 ? cell : cell + String(repeating: " ", count: widths[i] - visibleCount(cell) + 2)
      }.joined()
    }.joined(separator: "\n")
  }

  static func visibleCount(_ text: String) -> Int {
    var count = 0
    var inEscape = false
    for c in text.unicodeScalars {
      if inEscape { if c == "m" { inEscape = false } } else if c == "\u{1B}" { inEscape = true } else { count += 1 }
    }
    return count
  }

  /// Bytes as text when they are printable UTF-8, else as hex.
  public static func payload(_ bytes: [UInt8]) -> String {
    if let text = String(validating: bytes, as: UTF8.self),
      text.unicodeScalars.allSatisfy({ $0.value >= 0x20 && $0.value != 0x7F || $0 == "\n" || $0 == "\t" || $0 == "\r" })
    {
      return text
    }
    return hex(bytes)
  }

  public static func hex(_ bytes: [UInt8]) -> String {
    bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined(separator: " ")
  }

  /// Parses "48 65 6c", "48656c" or "0x48,0x65".
  public static func parseHex(_ text: String) -> [UInt8]? {
    let cleaned = text.replacingOccurrences(of: "0x", with: "").filter { !" ,:\n\t".contains($0) }
    guard cleaned.count % 2 == 0 else { return nil }
    var bytes: [UInt8] = []
    var index = cleaned.startIndex
    while index < cleaned.endIndex {
      let next = cleaned.index(index, offsetBy: 2)
      guard let byte = UInt8(cleaned[index..<next], radix: 16) else { return nil }
      bytes.append(byte)
      index = next
    }
    return bytes
  }
}

/// Signals (SIGINT, SIGTERM) as an async sequence, their default action switched off.
public final class Interrupts {
  private let stream: AsyncStream<Int32>
  private let sources: [any DispatchSourceSignal]

  public init(_ numbers: [Int32] = [SIGINT, SIGTERM]) {
    let (stream, continuation) = AsyncStream.makeStream(of: Int32.self)
    self.stream = stream
    sources = numbers.map { number in
      signal(number, SIG_IGN)
      let source = DispatchSource.makeSignalSource(signal: number)
      source.setEventHandler { continuation.yield(number) }
      source.resume()
      return source
    }
  }

  /// Returns at the next signal, with its number.
  @discardableResult
  public func next() async -> Int32 {
    for await number in stream { return number }
    return 0
  }
}
