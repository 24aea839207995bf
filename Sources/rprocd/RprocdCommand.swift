import ArgumentParser
import DaemonConfiguration
import Foundation
import Glibc
import RprocdCommandLine
import RprocdService

/// `rprocd --config FILE [--mount DIR] [--socket PATH]`: the remote processors as a service.
@main
struct RprocdCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "rprocd",
    abstract: "Own the remote processors a configuration describes; show them as sysfs and serve clients on a socket.",
    discussion: """
      With --mount, DIR shows Linux's /sys/class/remoteproc files (remoteprocN/state, firmware, \
      trace0, …) and an rpmsg/ folder per channel: echo start > DIR/remoteproc0/state. Clients \
      (rproc list, rproc start, rpmsg send, …) talk to the socket. SIGTERM or SIGINT stops or \
      detaches each processor as configured (on-exit), unmounts and removes the socket.

      Example: rprocd --config examples/rprocd.toml --mount /tmp/rproc
      """)

  @Option(help: "The configuration file (TOML or YAML; see docs/rprocd-config.md).")
  var config: String

  @Option(help: "Mount the sysfs-like tree here (created if missing; needs root and /dev/fuse).")
  var mount: String?

  @Option(help: "The UNIX socket for clients (RPROCD_SOCKET also sets it).")
  var socket: String = ProcessInfo.processInfo.environment["RPROCD_SOCKET"] ?? "/run/rprocd.sock"

  @Option(help: "The group whose members may connect to the socket (a name or a number).")
  var socketGroup: String?

  @Flag(help: "Serve no socket (only the tree).")
  var noSocket = false

  func validate() throws {
    if noSocket && mount == nil {
      throw ValidationError("with --no-socket, give --mount DIR; otherwise nothing would be served.")
    }
  }

  func run() async throws {
    let configuration: DaemonConfiguration
    do {
      configuration = try DaemonConfiguration.load(path: config)
    } catch {
      Log.line("rprocd: \(error)")
      throw ExitCode(78)  // EX_CONFIG
    }
    var options = DaemonOptions(mountPoint: nil, socketPath: noSocket ? nil : socket, log: { Log.line("rprocd: \($0)") })
    if let socketGroup {
      guard let gid = Self.groupID(socketGroup) else {
        Log.line("rprocd: no group \(socketGroup) in /etc/group; give a group name or number for --socket-group")
        throw ExitCode(64)
      }
      options.socketGroup = gid
    }
    // A closed standard error must not end the daemon (its logs are only lost).
    signal(SIGPIPE, SIG_IGN)
    var createdMount = false
    if let mount {
      let path = URL(fileURLWithPath: mount).standardizedFileURL.path
      if Self.isMounted(path) {
        Log.line("rprocd: \(path) is still mounted (did an earlier rprocd die?); unmount it first: umount -l \(path)")
        throw ExitCode(1)
      }
      if !FileManager.default.fileExists(atPath: path) {
        do {
          try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
          createdMount = true
        } catch {
          Log.line("rprocd: cannot create \(path): \(error.localizedDescription)")
          throw ExitCode(1)
        }
      }
      options.mountPoint = path
    }
    let signals = Interrupts([SIGTERM, SIGINT, SIGHUP])
    let daemon: Daemon
    do {
      daemon = try await Daemon.start(configuration: configuration, options: options)
    } catch {
      if createdMount, let path = options.mountPoint { try? FileManager.default.removeItem(atPath: path) }
      Log.line("rprocd: \(error.message)")
      throw ExitCode(error.code == .configuration ? 78 : 1)
    }
    var serving: [String] = []
    for processor in daemon.processors {
      serving.append("\(processor.deviceName) (\(processor.platform.platformName), \(await processor.state))")
    }
    var line = "rprocd: serving \(serving.joined(separator: ", "))"
    if let mount = daemon.mountPoint { line += "; tree at \(mount)" }
    if let path = options.socketPath { line += "; socket at \(path)" }
    Log.line(line)
    let number = await signals.next()
    Log.line("rprocd: signal \(number), shutting down")
    await daemon.stop()
    if createdMount, let path = options.mountPoint { try? FileManager.default.removeItem(atPath: path) }
    Log.line("rprocd: stopped")
  }

  /// Whether `path` is a mount point (from /proc/self/mounts).
  static func isMounted(_ path: String) -> Bool {
    let mounts = (try? String(contentsOfFile: "/proc/self/mounts", encoding: .utf8)) ?? ""
    return mounts.split(separator: "\n").contains { $0.split(separator: " ").dropFirst().first == Substring(path) }
  }

  /// A group number, or the number of a group named in /etc/group.
  static func groupID(_ text: String) -> UInt32? {
    if let number = UInt32(text) { return number }
    let groups = (try? String(contentsOfFile: "/etc/group", encoding: .utf8)) ?? ""
    for line in groups.split(separator: "\n") {
      let fields = line.split(separator: ":", omittingEmptySubsequences: false)
      if fields.count >= 3, fields[0] == Substring(text) { return UInt32(fields[2]) }
    }
    return nil
  }
}

/// Lines on standard error, whole.
enum Log {
  static func line(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
  }
}
