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

/// A dotted key such as `processor.remoteproc0.memory[1].size`, for messages.
struct ConfigurationKey: CustomStringConvertible {
  var components: [String] = []

  func appending(_ key: String) -> ConfigurationKey { ConfigurationKey(components: components + [key]) }
  func appending(index: Int) -> ConfigurationKey {
    guard let last = components.last else { return ConfigurationKey(components: ["[\(index)]"]) }
    return ConfigurationKey(components: components.dropLast() + ["\(last)[\(index)]"])
  }

  var description: String { components.joined(separator: ".") }
}
