/// A parsed configuration file, the same for TOML and YAML: tables keep their keys in file
/// order (or sorted, where the parser does not say) and every node knows where it came from.
struct ConfigurationNode {
  enum Value {
    case table([(key: String, node: ConfigurationNode)])
    case array([ConfigurationNode])
    case string(String)
    case integer(Int)
    case boolean(Bool)
    /// Anything else (floats, dates, nulls), described for messages.
    case other(String)
  }

  var value: Value
  var position: SourcePosition?

  /// How the value is named in "expected …, found …" messages.
  var kind: String {
    switch value {
    case .table: "a table"
    case .array: "an array"
    case .string(let text): "the string \(text.debugDescription)"
    case .integer(let number): "the integer \(number)"
    case .boolean(let flag): "\(flag)"
    case .other(let text): text
    }
  }
}

/// The TOML, YAML and JSON-ish spellings of a dotted key path, for messages.
struct KeyPath: CustomStringConvertible {
  var components: [String] = []

  func appending(_ key: String) -> KeyPath { KeyPath(components: components + [key]) }
  func appending(index: Int) -> KeyPath {
    guard let last = components.last else { return KeyPath(components: ["[\(index)]"]) }
    return KeyPath(components: components.dropLast() + ["\(last)[\(index)]"])
  }

  var description: String { components.joined(separator: ".") }
}
