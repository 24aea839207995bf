import Foundation
import RPMsg
import Remoteproc
import RemoteprocProcess
import RemoteprocVirtio
import Synchronization
import Testing

/// The native firmware (firmware/build, built by firmware/build.sh) and the Swift remote
/// (beside the test bundle).
enum NativeFirmware {
  static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent()
  static let buildDirectory = repository.appendingPathComponent("firmware/build")

  /// Builds the firmware once if an image is missing (CI runs scripts/setup first).
  static let built: Bool = {
    let wanted = ["rpmsg-echo-native.elf", "crashy-native.elf", "crashy-mute-native.elf", "rpmsg-bench-native.elf"]
    if wanted.allSatisfy({ FileManager.default.fileExists(atPath: buildDirectory.appendingPathComponent($0).path) }) {
      return true
    }
    let process = Process()
    process.executableURL = repository.appendingPathComponent("firmware/build.sh")
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    guard (try? process.run()) != nil else { return false }
    process.waitUntilExit()
    return process.terminationStatus == 0
  }()

  /// The folder holding the Swift `rpmsg-echo-remote` executable (the build products).
  static var productsDirectory: String {
    let bundle = URL(fileURLWithPath: ProcessInfo.processInfo.arguments[0]).resolvingSymlinksInPath()
    var directory = bundle.deletingLastPathComponent()
    while !FileManager.default.fileExists(atPath: directory.appendingPathComponent("rpmsg-echo-remote").path),
      directory.path != "/"
    {
      directory = directory.deletingLastPathComponent()
    }
    return directory.path
  }

  static var store: FirmwareStore {
    FirmwareStore(directories: [buildDirectory.path, productsDirectory])
  }
}

/// A driver that hands every channel and message to closures (tests and benchmarks).
final class ProbeDriver: RPMsgDriver {
  let serviceNames: [String]
  let channels = Mutex<[String: RPMsgChannel]>([:])
  let received = Mutex<[[UInt8]]>([])
  let removed = Atomic<Int>(0)
  private let onReceive: (@Sendable ([UInt8], RPMsgChannel) -> Void)?

  /// With `onReceive`, messages go there; without, they are kept in ``messages``.
  init(_ names: [String], onReceive: (@Sendable ([UInt8], RPMsgChannel) -> Void)? = nil) {
    serviceNames = names
    self.onReceive = onReceive
  }

  func probe(_ channel: RPMsgChannel) throws(RPMsgError) {
    channels.withLock { $0[channel.name] = channel }
  }

  func receive(_ message: inout RPMsgReceivedMessage, on channel: RPMsgChannel) {
    let bytes = message.payload
    if let onReceive { onReceive(bytes, channel) } else { received.withLock { $0.append(bytes) } }
  }

  func remove(_ channel: RPMsgChannel, reason: RPMsgRemovalReason) {
    channels.withLock { if $0[channel.name] === channel { $0[channel.name] = nil } }
    removed.add(1, ordering: .relaxed)
  }

  func channel(_ name: String) -> RPMsgChannel? { channels.withLock { $0[name] } }
  var messages: [[UInt8]] { received.withLock { $0 } }
}

/// A registry with one process-platform processor, its state directory in a fresh temporary
/// folder; `close()` stops everything and removes the folder.
final class ProcessHost: Sendable {
  let registry = RemoteprocRegistry()
  let platform: ProcessPlatform
  let processor: RemoteProcessor
  let probe: ProbeDriver
  let stateDirectory: String
  let drivers: RemoteprocVirtioDrivers

  init(
    firmware: String, services: [String] = ["rpmsg-client-sample", "rpmsg-tty", "rpmsg-crashy"],
    options: ProcessPlatform.Options = .init(), processorOptions: RemoteProcessor.Options = .init(),
    name: String = "proc-\(UUID().uuidString.prefix(8))", stateDirectory: String? = nil,
    onReceive: (@Sendable ([UInt8], RPMsgChannel) -> Void)? = nil
  ) async throws {
    try #require(NativeFirmware.built, "firmware/build.sh failed")
    let directory = stateDirectory ?? FileManager.default.temporaryDirectory
      .appendingPathComponent("rproc-process-tests-\(UUID().uuidString)").path
    self.stateDirectory = directory
    var options = options
    options.stateDirectory = directory
    options.exitsWithHost = true
    platform = try ProcessPlatform(name: name, options: options)
    let probe = ProbeDriver(services, onReceive: onReceive)
    self.probe = probe
    drivers = RemoteprocVirtioDrivers(newBus: { _, _, bus in bus.register(probe) }, brokenTransportIsCrash: true)
    processor = await registry.add(
      name: "native", firmware: firmware, platform: platform, firmwareStore: NativeFirmware.store,
      drivers: drivers, options: processorOptions
    ).processor
  }

  var bus: RPMsgBus? { drivers.bus(processor: processor.deviceName, index: 0) }

  /// Stops the processor (if it runs) and removes the state folder.
  func close() async {
    await registry.remove(processor)
    try? FileManager.default.removeItem(atPath: stateDirectory)
  }

  /// Waits until the firmware announced `name`, and returns its channel.
  func channel(_ name: String, seconds: Double = 20) async throws -> RPMsgChannel {
    try await eventually("channel \(name)", seconds: seconds) { probe.channel(name) != nil }
    return try #require(probe.channel(name))
  }

  /// The trace buffer's text.
  func trace() async -> String { (try? await processor.traceText(0)) ?? "" }
}

/// Polls `condition` until it holds, failing after `seconds`. The deadline only keeps a broken
/// build from hanging the suite; no test depends on speed.
func eventually(
  _ what: String, seconds: Double = 20, sourceLocation: SourceLocation = #_sourceLocation,
  _ condition: () async throws -> Bool
) async throws {
  let deadline = Date().addingTimeInterval(seconds)
  while Date() < deadline {
    if try await condition() { return }
    try await Task.sleep(for: .milliseconds(2))
  }
  Issue.record("timed out after \(seconds) s waiting for \(what)", sourceLocation: sourceLocation)
  throw CancellationError()
}

/// Whether process `pid` still exists (and is not a zombie).
func processExists(_ pid: Int32) -> Bool {
  guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
    let close = text.lastIndex(of: ")")
  else { return false }
  let state = text[text.index(after: close)...].split(separator: " ").first
  return state != "Z" && state != "X"
}

/// The "Cpus_allowed_list" of a process or thread (`/proc/<pid>/task/<tid>/status`).
func allowedCPUs(_ path: String) -> String? {
  guard let text = try? String(contentsOfFile: "\(path)/status", encoding: .utf8) else { return nil }
  for line in text.split(separator: "\n") where line.hasPrefix("Cpus_allowed_list:") {
    return line.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)
  }
  return nil
}
