import TOMLKit

extension ConfigurationNode {
  /// Parses TOML text. TOMLKit reports where a syntax error is but not where a value came
  /// from, so key positions come from ``TOMLKeyLocator``.
  static func parseTOML(_ text: String, file: String) throws(ConfigurationError) -> ConfigurationNode {
    let table: TOMLTable
    do {
      table = try TOMLTable(string: text)
    } catch let error as TOMLParseError {
      throw ConfigurationError(
        .syntax, error.description, file: file,
        position: SourcePosition(line: error.source.begin.line, column: error.source.begin.column))
    } catch {
      throw ConfigurationError(.syntax, "\(error)", file: file)
    }
    let locator = TOMLKeyLocator(text)
    return convert(table, path: ConfigurationKey(), locator: locator)
  }

  private static func convert(
    _ value: any TOMLValueConvertible, path: ConfigurationKey, locator: TOMLKeyLocator
  ) -> ConfigurationNode {
    let position = locator.position(of: path.components)
    switch value.type {
    case .table:
      let table = value.table!
      let entries = table.map { (key: String, value: any TOMLValueConvertible) in
        (key: key, node: convert(value, path: path.appending(key), locator: locator))
      }
      return ConfigurationNode(value: .table(entries), position: position)
    case .array:
      let elements = value.array!.enumerated().map { index, element in
        convert(element, path: path.appending(index: index), locator: locator)
      }
      return ConfigurationNode(value: .array(elements), position: position)
    case .string: return ConfigurationNode(value: .string(value.string ?? ""), position: position)
    case .int: return ConfigurationNode(value: .integer(value.int ?? 0), position: position)
    case .bool: return ConfigurationNode(value: .boolean(value.bool ?? false), position: position)
    case .double: return ConfigurationNode(value: .other("the float \(value.double ?? 0)"), position: position)
    default: return ConfigurationNode(value: .other("a \(value.type)"), position: position)
    }
  }
}
