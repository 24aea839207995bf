import DaemonConfiguration
import Foundation
import Glibc
import RprocdClient
import RprocdProtocol
import Remoteproc
import RprocdService
import Synchronization
import Testing

/// The repository and its example firmware (built by scripts/setup into firmware/build).
enum Repository {
  static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()
  static let firmware = root.appendingPathComponent("firmware/build").path
  static let built = FileManager.default.fileExists(atPath: firmware + "/rpmsg-echo-rv32.elf")
    && FileManager.default.fileExists(atPath: firmware + "/case-invert-mips32.elf")
  static let skipReason: Comment = "firmware/build is missing: run scripts/setup (or firmware/build.sh)"

  /// A built executable of this package (beside the test bundle in the build folder).
  static func executable(_ name: String) -> String {
    var directory = URL(fileURLWithPath: ProcessInfo.processInfo.arguments[0]).resolvingSymlinksInPath()
      .deletingLastPathComponent()
    while !FileManager.default.fileExists(atPath: directory.appendingPathComponent(name).path), directory.path != "/" {
      directory = directory.deletingLastPathComponent()
    }
    return directory.appendingPathComponent(name).path
  }
}

/// Every test that starts a daemon, one at a time: each daemon runs two emulated cores, and
/// a process has a limited number of emulator slots (other suites run alongside).
@Suite(.serialized) enum DaemonTests {}

/// Two processors: remoteproc0, the MIPS case-inversion example (a serial port), and
/// remoteproc1, rpmsg-echo on RV32 (rpmsg-client-sample and rpmsg-tty channels, echoing).
func twoProcessors(firmware: String = Repository.firmware, autoBoot: Bool = false, coredump: String = "disabled") -> String {
  """
  [processor.remoteproc0]
  platform = "emulated"
  machine = "mips32"
  firmware-directory = "\(firmware)"
  firmware = "case-invert-mips32.elf"
  legacy-zero-vring-address = true

  [processor.remoteproc1]
  platform = "emulated"
  machine = "rv32"
  firmware-directory = "\(firmware)"
  firmware = "rpmsg-echo-rv32.elf"
  auto-boot = \(autoBoot)
  coredump = "\(coredump)"
  """
}

/// A daemon in this process, in a temporary folder of its own: the socket is `socket`,
/// the tree (when mounted) is at `mount`.
struct TestDaemon: Sendable {
  let daemon: Daemon
  let folder: String
  var socket: String { folder + "/rprocd.sock" }
  var mount: String { folder + "/sys" }
  let log: LogLines

  func connect(_ name: String = "test") async throws -> RprocdConnection {
    try await RprocdConnection.connect(path: socket, client: name)
  }

  func processor(_ index: Int) -> String { mount + "/remoteproc\(index)" }
}

/// The daemon's log, for failure messages.
final class LogLines: Sendable {
  let lines = Mutex<[String]>([])
  func append(_ line: String) { lines.withLock { $0.append(line) } }
  var text: String { lines.withLock { $0.joined(separator: "\n") } }
}

/// Starts a daemon for `configuration` (TOML), runs `body`, and always stops it (processors
/// stopped, tree unmounted, socket removed) and removes its folder, even when `body` throws.
func withDaemon(
  _ configuration: String = twoProcessors(), mount: Bool = true, _ body: (TestDaemon) async throws -> Void
) async throws {
  let folder = FileManager.default.temporaryDirectory.appendingPathComponent("rprocd-test-\(UUID().uuidString)").path
  try FileManager.default.createDirectory(atPath: folder + "/sys", withIntermediateDirectories: true)
  defer { try? FileManager.default.removeItem(atPath: folder) }
  let parsed = try DaemonConfiguration.parse(configuration, format: .toml, file: "test.toml", baseDirectory: folder)
  let log = LogLines()
  var options = DaemonOptions(mountPoint: mount ? folder + "/sys" : nil, socketPath: folder + "/rprocd.sock", log: { log.append($0) })
  options.maximumClients = 8
  let platforms = try await serve(parsed, options, folder: folder, log: log, body)
  // Nothing the daemon made outlives it (an emulated core holds memory and an emulator slot).
  #expect(await eventually { platforms.allSatisfy { $0.object == nil } }, "a processor outlived its daemon")
}

/// Runs the daemon for `body`; returns weak references to its platforms.
private func serve(
  _ configuration: DaemonConfiguration, _ options: DaemonOptions, folder: String, log: LogLines,
  _ body: (TestDaemon) async throws -> Void
) async throws -> [WeakReference] {
  let daemon = try await Daemon.start(configuration: configuration, options: options)
  let test = TestDaemon(daemon: daemon, folder: folder, log: log)
  do {
    try await body(test)
  } catch {
    await daemon.stop()
    throw error
  }
  await daemon.stop()
  return daemon.processors.map { WeakReference($0.platform) }
}

final class WeakReference: Sendable {
  weak let object: (any RemoteProcessorPlatform)?
  init(_ object: any RemoteProcessorPlatform) { self.object = object }
}

/// Waits (polling, up to `limit`) until `condition` holds; the limit only bounds a failing
/// test, nothing here measures time.
func eventually(_ limit: Duration = .seconds(10), _ condition: () async -> Bool) async -> Bool {
  let deadline = ContinuousClock.now + limit
  while ContinuousClock.now < deadline {
    if await condition() { return true }
    try? await Task.sleep(for: .milliseconds(10))
  }
  return await condition()
}

/// What a command did.
struct CommandResult: Sendable {
  var status: Int32
  var output: String
  var error: String
}

/// Runs a program without blocking a thread of the concurrency pool (the daemon's closures
/// need those), feeding it `input`; killed if the test is cancelled.
func run(_ executable: String, _ arguments: [String], input: String = "", environment: [String: String] = [:]) async throws -> CommandResult {
  let process = Process()
  process.executableURL = URL(fileURLWithPath: executable)
  process.arguments = arguments
  var env = ProcessInfo.processInfo.environment
  env.removeValue(forKey: "RPROCD_SOCKET")
  for (k, v) in environment { env[k] = v }
  process.environment = env
  let output = Pipe(), error = Pipe(), stdin = Pipe()
  process.standardOutput = output
  process.standardError = error
  process.standardInput = stdin
  let finished = Gate()
  process.terminationHandler = { _ in finished.open() }
  try process.run()
  // Read the pipes on threads of their own, so a chatty program never blocks on a full pipe.
  let out = PipeReader(output), err = PipeReader(error)
  stdin.fileHandleForWriting.write(Data(input.utf8))
  try? stdin.fileHandleForWriting.close()
  await withTaskCancellationHandler { await finished.wait() } onCancel: { kill(process.processIdentifier, SIGKILL) }
  return CommandResult(status: process.terminationStatus, output: await out.text(), error: await err.text())
}

/// `/bin/sh -c script` with `arguments` as $1, $2, …
func shell(_ script: String, _ arguments: String...) async throws -> CommandResult {
  try await run("/bin/sh", ["-c", script, "sh"] + arguments)
}

final class PipeReader: Sendable {
  private let done = Gate()
  private let data = Mutex(Data())

  init(_ pipe: Pipe) {
    let handle = pipe.fileHandleForReading
    let thread = Thread { [self] in
      let all = handle.readDataToEndOfFile()
      data.withLock { $0 = all }
      done.open()
    }
    thread.start()
  }

  func text() async -> String {
    await done.wait()
    return String(decoding: data.withLock { $0 }, as: UTF8.self)
  }
}

/// A one-shot latch.
final class Gate: Sendable {
  private let state: Mutex<(open: Bool, waiters: [CheckedContinuation<Void, Never>])> = Mutex((false, []))

  func open() {
    let waiters = state.withLock { state in
      state.open = true
      defer { state.waiters = [] }
      return state.waiters
    }
    for waiter in waiters { waiter.resume() }
  }

  func wait() async {
    await withCheckedContinuation { continuation in
      let open = state.withLock { state in
        if !state.open { state.waiters.append(continuation) }
        return state.open
      }
      if open { continuation.resume() }
    }
  }
}

/// Whether `directory` is a mount point now.
func isMounted(_ directory: String) -> Bool {
  let mounts = (try? String(contentsOfFile: "/proc/self/mounts", encoding: .utf8)) ?? ""
  return mounts.split(separator: "\n").contains { $0.split(separator: " ").dropFirst().first == Substring(directory) }
}

/// Runs a blocking call on a thread of its own, so it never holds a thread of the
/// concurrency pool (the daemon in this process needs them to answer).
func blocking<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
  try await withCheckedThrowingContinuation { continuation in
    let thread = Thread {
      do { continuation.resume(returning: try body()) } catch { continuation.resume(throwing: error) }
    }
    thread.start()
  }
}

/// A raw connection for speaking (and breaking) the protocol by hand. Every socket call runs
/// on a thread of its own.
final class RawClient: Sendable {
  let socket: UnixSocket
  let decoder = Mutex(FrameDecoder(maximumFrameBytes: Frame.maximumResponseBytes))

  init(_ path: String) async throws {
    socket = try await blocking { try UnixSocket.connect(path: path) }
  }

  func send(_ bytes: [UInt8]) async throws {
    try await blocking { [socket] in try socket.send(bytes) }
  }

  func send(_ request: Request) async throws { try await send(try ProtocolJSON.frame(request)) }

  func hello() async throws -> FrameHeader {
    try await send(Request(id: 1, .hello, version: Frame.protocolVersion, client: "raw"))
    return try #require(try await nextFrame())
  }

  /// The next frame's header, or nil at end of stream.
  func nextFrame() async throws -> FrameHeader? {
    try await blocking { [self] in try readFrame() }
  }

  private func readFrame() throws -> FrameHeader? {
    while true {
      if let frame = try decoder.withLock({ (d) throws(RprocdError) in try d.next() }) {
        return try ProtocolJSON.decode(FrameHeader.self, from: frame)
      }
      let bytes = try socket.read()
      if bytes.isEmpty { return nil }
      decoder.withLock { $0.append(bytes) }
    }
  }

  /// Reads until the daemon hangs up; returns the frames it sent.
  func framesUntilClosed() async throws -> [FrameHeader] {
    try await blocking { [self] in
      var frames: [FrameHeader] = []
      while let frame = try readFrame() { frames.append(frame) }
      return frames
    }
  }

  func close() {
    socket.shutdown()
  }
}
