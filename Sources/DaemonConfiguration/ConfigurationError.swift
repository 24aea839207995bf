/// Why a configuration file was refused: where (file, line, column when known) and which
/// key, with the reason and, for a misspelt key, the likely intended one.
///
/// ```
/// examples/rprocd.toml:7:1: processor.remoteproc0.cpuz: unknown key; did you mean cpus? (allowed: …)
/// ```
public struct ConfigurationError: Error, Hashable, Sendable, CustomStringConvertible {
  public struct Code: Hashable, Sendable, CustomStringConvertible {
    private enum Wrapped: Hashable, Sendable { case unreadable, syntax, unknownKey, missingKey, invalidValue }
    private let wrapped: Wrapped
    private init(_ wrapped: Wrapped) { self.wrapped = wrapped }

    /// The file could not be read, or its extension names no known format.
    public static var unreadable: Self { Self(.unreadable) }
    /// The text is not valid TOML or YAML (the parser's message and position).
    public static var syntax: Self { Self(.syntax) }
    /// A key that means nothing here (typos are not ignored).
    public static var unknownKey: Self { Self(.unknownKey) }
    /// A required key is absent.
    public static var missingKey: Self { Self(.missingKey) }
    /// A value of the wrong type or out of range.
    public static var invalidValue: Self { Self(.invalidValue) }

    public var description: String {
      switch wrapped {
      case .unreadable: "unreadable"
      case .syntax: "syntax error"
      case .unknownKey: "unknown key"
      case .missingKey: "missing key"
      case .invalidValue: "invalid value"
      }
    }
  }

  public var code: Code
  /// The file, as given to ``DaemonConfiguration/load(path:availableCPUs:)``.
  public var file: String
  /// 1-based line, when known.
  public var line: Int?
  /// 1-based column, when the parser gives it.
  public var column: Int?
  /// The dotted key, e.g. `processor.remoteproc0.cpus`, when the problem is one key's.
  public var key: String?
  /// The reason.
  public var message: String

  public init(
    _ code: Code, _ message: String, file: String, position: SourcePosition? = nil, key: String? = nil
  ) {
    self.code = code
    self.message = message
    self.file = file
    self.line = position?.line
    self.column = position?.column
    self.key = key
  }

  /// `file:line:column: key: message`, as compilers print.
  public var description: String {
    var location = file
    if let line { location += ":\(line)" }
    if let column { location += ":\(column)" }
    return "\(location): " + (key.map { "\($0): " } ?? "") + message
  }
}

/// A place in a configuration file.
public struct SourcePosition: Hashable, Sendable {
  /// 1-based.
  public var line: Int
  /// 1-based, nil when only the line is known.
  public var column: Int?

  public init(line: Int, column: Int? = nil) {
    self.line = line
    self.column = column
  }
}
