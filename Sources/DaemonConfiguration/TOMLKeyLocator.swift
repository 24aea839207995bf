/// Finds the line of a key in TOML text by following table headers (`[a.b]`,
/// `[[a.b]]`, counting array elements) and `key = value` lines, dotted keys included.
/// Keys inside inline tables and multi-line arrays get the position of the nearest
/// enclosing key that has a line of its own.
struct TOMLKeyLocator {
  private var positions: [String: SourcePosition] = [:]

  init(_ text: String) {
    var table: [String] = []
    var arrayCounts: [String: Int] = [:]
    var multilineDelimiter: String?
    for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
      let line = String(rawLine)
      if let delimiter = multilineDelimiter {
        if line.components(separatedBy: delimiter).count % 2 == 0 { multilineDelimiter = nil }
        continue
      }
      let indent = line.prefix { $0 == " " || $0 == "\t" }.count
      let content = line.dropFirst(indent)
      if content.isEmpty || content.hasPrefix("#") { continue }
      let column = indent + 1
      if content.hasPrefix("[[") {
        guard let end = content.range(of: "]]") else { continue }
        var keys = Self.keys(content[content.index(content.startIndex, offsetBy: 2)..<end.lowerBound])
        let joined = keys.joined(separator: ".")
        let count = arrayCounts[joined, default: 0]
        arrayCounts[joined] = count + 1
        keys[keys.count - 1] += "[\(count)]"
        table = keys
        record(table, SourcePosition(line: index + 1, column: column))
      } else if content.hasPrefix("[") {
        guard let end = content.firstIndex(of: "]") else { continue }
        table = Self.keys(content[content.index(after: content.startIndex)..<end])
        record(table, SourcePosition(line: index + 1, column: column))
      } else if let equals = Self.firstUnquoted("=", in: content) {
        record(table + Self.keys(content[..<equals]), SourcePosition(line: index + 1, column: column))
        let value = content[content.index(after: equals)...]
        for delimiter in ["\"\"\"", "'''"] where value.components(separatedBy: delimiter).count == 2 {
          multilineDelimiter = delimiter
        }
      }
    }
  }

  /// Records `keys` and every prefix not seen yet (a dotted key defines its parents).
  private mutating func record(_ keys: [String], _ position: SourcePosition) {
    for length in 1...max(keys.count, 1) where length <= keys.count {
      let key = keys[..<length].joined(separator: ".")
      if positions[key] == nil { positions[key] = position }
    }
  }

  /// The position of `path`, or of its nearest ancestor with one.
  func position(of path: [String]) -> SourcePosition? {
    var path = path
    while !path.isEmpty {
      if let position = positions[path.joined(separator: ".")] { return position }
      path.removeLast()
    }
    return nil
  }

  /// Splits a (possibly dotted, possibly quoted) key into its parts.
  private static func keys(_ text: Substring) -> [String] {
    var parts: [String] = []
    var current = ""
    var quote: Character?
    for character in text {
      if let open = quote {
        if character == open { quote = nil } else { current.append(character) }
      } else if character == "\"" || character == "'" {
        quote = character
      } else if character == "." {
        parts.append(current.trimmingSpaces)
        current = ""
      } else {
        current.append(character)
      }
    }
    parts.append(current.trimmingSpaces)
    return parts
  }

  private static func firstUnquoted(_ target: Character, in text: Substring) -> Substring.Index? {
    var quote: Character?
    for index in text.indices {
      let character = text[index]
      if let open = quote {
        if character == open { quote = nil }
      } else if character == "\"" || character == "'" {
        quote = character
      } else if character == target {
        return index
      }
    }
    return nil
  }
}

extension String {
  var trimmingSpaces: String {
    String(drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed())
  }
}
