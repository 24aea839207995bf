import Yams

extension ConfigurationNode {
  /// Parses YAML text (the first document). Yams gives every node its line and column.
  static func parseYAML(_ text: String, file: String) throws(ConfigurationError) -> ConfigurationNode {
    let root: Node?
    do {
      root = try Yams.compose(yaml: text)
    } catch let error as YamlError {
      throw Self.describe(error, file: file)
    } catch {
      throw ConfigurationError(.syntax, "\(error)", file: file)
    }
    guard let root else { return ConfigurationNode(value: .table([]), position: SourcePosition(line: 1, column: 1)) }
    return convert(root)
  }

  private static func convert(_ node: Node) -> ConfigurationNode {
    let position = node.mark.map { SourcePosition(line: $0.line, column: $0.column) }
    switch node {
    case .mapping(let mapping):
      // A value is placed where its key is written, as TOML values are.
      let entries = mapping.map { pair in
        var child = convert(pair.value)
        child.position = pair.key.mark.map { SourcePosition(line: $0.line, column: $0.column) } ?? child.position
        return (key: pair.key.string ?? "\(pair.key)", node: child)
      }
      return ConfigurationNode(value: .table(entries), position: position)
    case .sequence(let sequence):
      return ConfigurationNode(value: .array(sequence.map(convert)), position: position)
    case .scalar(let scalar):
      switch Tag.Name(rawValue: node.tag.rawValue) {
      case .bool: return ConfigurationNode(value: .boolean(node.bool ?? false), position: position)
      case .int:
        guard let number = node.int else {
          return ConfigurationNode(value: .other("the number \(scalar.string)"), position: position)
        }
        return ConfigurationNode(value: .integer(number), position: position)
      case .str: return ConfigurationNode(value: .string(scalar.string), position: position)
      case .null: return ConfigurationNode(value: .other("null"), position: position)
      case .float: return ConfigurationNode(value: .other("the float \(scalar.string)"), position: position)
      default: return ConfigurationNode(value: .other("the value \(scalar.string)"), position: position)
      }
    case .alias:
      return ConfigurationNode(value: .other("an alias"), position: position)
    }
  }

  private static func describe(_ error: YamlError, file: String) -> ConfigurationError {
    func located(_ problem: String, _ mark: Mark) -> ConfigurationError {
      ConfigurationError(.syntax, problem, file: file, position: SourcePosition(line: mark.line, column: mark.column))
    }
    switch error {
    case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _),
      .composer(_, let problem, let mark, _):
      return located(problem, mark)
    case .duplicatedKeysInMapping(let duplicates, let context):
      return ConfigurationError(
        .syntax, "duplicate key \(duplicates.first ?? "")", file: file,
        position: SourcePosition(line: context.mark.line, column: context.mark.column),
        key: duplicates.first)
    case .reader(let problem, let offset, _, _):
      return ConfigurationError(.syntax, problem + (offset.map { " at byte \($0)" } ?? ""), file: file)
    default:
      return ConfigurationError(.syntax, "\(error)", file: file)
    }
  }
}
