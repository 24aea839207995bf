import ArgumentParser
import Foundation
import RprocdClient
import RprocdProtocol

/// The options every client command takes: where rprocd listens, and JSON output.
public struct ClientOptions: ParsableArguments, Sendable {
  @Option(help: ArgumentHelp("rprocd's socket.", discussion: "Default: $RPROCD_SOCKET, else /run/rprocd.sock.", valueName: "path"))
  public var socket: String?

  @Flag(help: "Print JSON (one object, or one per line for streams) instead of text.")
  public var json = false

  public init() {}

  public var socketPath: String { socket ?? RprocdConnection.defaultSocketPath }

  /// Connects, or prints what to do and exits.
  public func connect(_ command: String) async throws -> RprocdConnection {
    do {
      return try await RprocdConnection.connect(path: socketPath, client: command)
    } catch {
      throw fail(command, error)
    }
  }

  /// Prints `error` as the user should see it (text, or JSON with --json) and returns the
  /// exit code to throw: 1 refused, 69 daemon not running, 77 no permission, 76 protocol.
  public func fail(_ command: String, _ error: RprocdError) -> ExitCode {
    let text: String
    let code: Int32
    switch error.code {
    case .notRunning:
      text = "rprocd is not running (nothing listens at \(socketPath)): start it with rprocd --config FILE (see docs/rprocd.md), or give --socket or RPROCD_SOCKET its socket"
      code = 69
    case .permissionDenied:
      text = "no permission to connect to \(socketPath): run as root, or join the socket's group (rprocd --socket-group)"
      code = 77
    case .refused:
      text = error.message + (error.errnoName.map { " (\($0))" } ?? "")
      code = 1
    case .closed:
      text = "rprocd closed the connection (did it stop?)"
      code = 1
    default:
      text = error.description
      code = 76
    }
    if json {
      Console.json(["error": ErrorInfo(code: error.errnoName ?? "\(error.code)", errno: error.errno, message: text)])
    } else {
      Console.error("\(command): \(text)")
    }
    return ExitCode(code)
  }

  /// Runs `body`, turning an ``RprocdError`` into the message and exit code of ``fail(_:_:)``.
  public func run<T>(_ command: String, _ body: () async throws(RprocdError) -> T) async throws -> T {
    do {
      return try await body()
    } catch {
      throw fail(command, error)
    }
  }
}
