import Foundation
import Testing

/// `rproc openamp attach` against `rproc openamp echo-remote`, each in a process of its own,
/// on a file and socket of the test's own.
@Suite struct OpenAMPCommandTests {
  /// The layout options pointing at a fresh folder.
  static func layout() throws -> (directory: String, arguments: [String]) {
    let directory = "/tmp/oa-cli-\(UUID().uuidString.prefix(8))"
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: false)
    return (directory, ["--shm", directory + "/openamp.shm", "--socket", directory + "/openamp.event.0"])
  }

  @Test func attachPingsTheEchoRemoteAndDetaches() throws {
    let (directory, layout) = try Self.layout()
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let remote = Process()
    remote.executableURL = Rproc.executable
    remote.arguments = ["openamp", "echo-remote"] + layout
    let remoteErrors = Pipe()
    remote.standardError = remoteErrors
    try remote.run()
    defer {
      if remote.isRunning { remote.interrupt() }
      remote.waitUntilExit()
    }
    let attach = try Rproc.run(["openamp", "attach", "--wait", "20", "--ping", "25"] + layout)
    #expect(attach.status == 0)
    #expect(
      attach.stdout == "rpmsg-client-sample on rpmsg-openamp-demo-channel (remote address 0x400): 25 sent, 25 echoed, 0 mismatched\n")
    #expect(attach.stderr.contains("remoteproc0: detached → attached\n"))
    #expect(attach.stderr.contains("remoteproc0: attached → detached\n"))
    let console = try Rproc.run(["openamp", "attach", "--console"] + layout, stdin: "Hello, OpenAMP\n")
    #expect(console.status == 0)
    #expect(console.stdout == "Hello, OpenAMP\n")
    remote.interrupt()
    remote.waitUntilExit()
    #expect(remote.terminationStatus == 0)
    let log = String(decoding: remoteErrors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    #expect(log.contains("openamp remote: host 2 connected"))
    #expect(!FileManager.default.fileExists(atPath: directory + "/openamp.event.0"))
  }

  @Test func attachWithNobodyThereSaysSo() throws {
    let (directory, layout) = try Self.layout()
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let result = try Rproc.run(["openamp", "attach"] + layout)
    #expect(result.status == 1)
    #expect(
      result.stderr.hasSuffix(
        "rproc openamp attach: cannot connect to the kick socket \(directory)/openamp.event.0 (is the remote running? OpenAMP's Linux machine listens there once its shared memory is set up, and accepts one host per run): No such file or directory\n"
      ))
  }

  @Test func badLayoutIsAUsageError() throws {
    let result = try Rproc.run(["openamp", "attach", "--buffers", "0x70000"])
    #expect(result.status == 64)
    #expect(
      result.stderr.hasPrefix(
        "Error: the rpmsg buffers [0x70000, +0x40000) must be non-empty, 16-byte aligned and inside the 0x80000-byte file\n"))
    let hex = try Rproc.run(["openamp", "echo-remote", "--vring0", "zz"])
    #expect(hex.status == 64)
  }

  @Test func helpIsStable() throws {
    let result = try Rproc.run(["openamp", "--help"])
    #expect(
      result.stdout == """
        OVERVIEW: Talk to OpenAMP's Linux machine: attach to its remote, or be a remote
        for its host.

        Both sides share a file (the resource table, vrings and rpmsg buffers) and kick
        each other with one byte on a UNIX socket that the remote listens on. The
        defaults are OpenAMP's: /dev/shm/openamp.shm of 0x80000 bytes, the table at
        offset 0, device address = file offset, buffers at 0x10000 for 0x40000 bytes,
        the socket /tmp/openamp.event.0.

        USAGE: rproc openamp <subcommand>

        OPTIONS:
          -h, --help              Show help information.

        SUBCOMMANDS:
          attach                  Attach to a running OpenAMP Linux-machine remote as
                                  its host (the virtio driver).
          echo-remote             Be a remote that OpenAMP's Linux-machine host
                                  attaches to, echoing every message.

          See 'rproc help openamp <subcommand>' for detailed help.

        """)
  }
}
