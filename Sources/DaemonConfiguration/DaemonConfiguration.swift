import Foundation

/// What `rprocd` serves: its remote processors, read from a TOML or YAML file.
///
/// ```swift
/// let configuration = try DaemonConfiguration.load(path: "examples/rprocd.toml")
/// for processor in configuration.processors { … }
/// ```
///
/// The format is chosen by the extension (`.toml`; `.yaml` or `.yml`) and documented in
/// `docs/rprocd-config.md`. Everything is checked before the daemon acts on it: a
/// malformed file, an unknown key (a typo is never silently ignored), a missing key or a
/// bad value throws a ``ConfigurationError`` with the line, the column where known, and the
/// key.
public struct DaemonConfiguration: Hashable, Sendable {
  /// The file formats.
  public enum Format: String, Hashable, Sendable {
    case toml, yaml

    /// The format of a file named `path`, or nil for an unknown extension.
    public init?(path: String) {
      switch URL(fileURLWithPath: path).pathExtension.lowercased() {
      case "toml": self = .toml
      case "yaml", "yml": self = .yaml
      default: return nil
      }
    }
  }

  /// The processors, by ascending index (`remoteproc0` first).
  public var processors: [ProcessorConfiguration]

  /// Reads and checks the file at `path`.
  /// - Parameter availableCPUs: the CPUs `cpus` may name; by default those present here.
  public static func load(
    path: String, availableCPUs: CPUSet = .present
  ) throws(ConfigurationError) -> DaemonConfiguration {
    guard let format = Format(path: path) else {
      throw ConfigurationError(
        .unreadable, "unknown extension; name the file *.toml, *.yaml or *.yml", file: path)
    }
    let text: String
    do {
      text = try String(contentsOfFile: path, encoding: .utf8)
    } catch {
      throw ConfigurationError(.unreadable, "cannot read the file: \(error.localizedDescription)", file: path)
    }
    let directory = URL(fileURLWithPath: path).deletingLastPathComponent().standardizedFileURL.path
    return try parse(text, format: format, file: path, baseDirectory: directory, availableCPUs: availableCPUs)
  }

  /// Checks configuration text.
  /// - Parameters:
  ///   - file: the name used in errors.
  ///   - baseDirectory: what a relative `firmware-directory` is relative to (``load(path:availableCPUs:)``
  ///     uses the file's folder, so a configuration works from any working directory).
  public static func parse(
    _ text: String, format: Format, file: String = "<text>", baseDirectory: String,
    availableCPUs: CPUSet = .present
  ) throws(ConfigurationError) -> DaemonConfiguration {
    let root =
      switch format {
      case .toml: try ConfigurationNode.parseTOML(text, file: file)
      case .yaml: try ConfigurationNode.parseYAML(text, file: file)
      }
    let decoder = ConfigurationDecoder(file: file, baseDirectory: baseDirectory, availableCPUs: availableCPUs)
    return DaemonConfiguration(processors: try decoder.processors(in: root))
  }
}
