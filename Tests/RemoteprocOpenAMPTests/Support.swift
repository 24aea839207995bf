import Foundation
import RPMsg
import RPMsgDrivers
import Remoteproc
import RemoteprocOpenAMP
import RemoteprocVirtio
import Synchronization
import Testing

/// A folder of its own for one test's shared-memory file and socket (short: a socket path has
/// at most 107 bytes), so tests run in parallel; OpenAMP's layout otherwise.
struct Scratch {
  let directory: String
  var configuration: OpenAMPConfiguration

  init() throws {
    directory = "/tmp/oa-\(UUID().uuidString.prefix(12))"
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: false)
    configuration = OpenAMPConfiguration(
      sharedMemoryPath: directory + "/openamp.shm", socketPath: directory + "/openamp.event.0")
  }

  func remove() { try? FileManager.default.removeItem(atPath: directory) }
}

/// The Swift OpenAMP echo remote on a thread of its own, as OpenAMP's `rpmsg-echo` runs in a
/// process of its own.
final class EchoRemote: Sendable {
  let remote: OpenAMPRemote
  let events = Mutex<[OpenAMPRemote.HostEvent]>([])
  let logged = Mutex<[String]>([])
  private let done = DispatchSemaphore(value: 0)

  init(
    _ configuration: OpenAMPConfiguration, table: OpenAMPRemote.TableOptions = .init(),
    services: [String] = ["rpmsg-openamp-demo-channel"]
  ) throws {
    let remote = try OpenAMPRemote(configuration: configuration, table: table)
    self.remote = remote
    let thread = Thread { [self] in
      do {
        try remote.runEcho(
          services: services, onHost: { event in self.events.withLock { $0.append(event) } },
          log: { line in self.logged.withLock { $0.append(line) } })
      } catch {
        logged.withLock { $0.append("run: \(error)") }
      }
      done.signal()
    }
    thread.name = "openamp-echo-remote"
    thread.start()
  }

  /// Stops the remote (its host sees the socket close) and waits for its thread.
  func stop() {
    remote.stop()
    done.wait()
  }
}

/// A host: one OpenAMP-platform processor with the core's virtio drivers, a raw driver and a
/// client-sample driver bound to `service`.
final class OpenAMPHost: Sendable {
  let registry = RemoteprocRegistry()
  let platform: OpenAMPPlatform
  let processor: RemoteProcessor
  let drivers: RemoteprocVirtioDrivers
  let raw: RPMsgRawDriver
  let sample: RPMsgClientSampleDriver

  init(
    _ configuration: OpenAMPConfiguration, rawService: String = "rpmsg-openamp-demo-channel",
    sampleService: String = "rpmsg-client-sample", recoveryDisabled: Bool = true
  ) async throws {
    platform = try OpenAMPPlatform(configuration: configuration)
    let raw = RPMsgRawDriver(serviceNames: [rawService])
    let sample = RPMsgClientSampleDriver(serviceNames: [sampleService])
    self.raw = raw
    self.sample = sample
    drivers = RemoteprocVirtioDrivers(newBus: { _, _, bus in
      bus.register(raw)
      bus.register(sample)
    })
    var options = RemoteProcessor.Options()
    options.recoveryDisabled = recoveryDisabled
    processor = await registry.add(
      name: "openamp", firmware: "", platform: platform, firmwareStore: FirmwareStore(directories: []),
      drivers: drivers, options: options
    ).processor
  }

  var bus: RPMsgBus? { drivers.bus(processor: processor.deviceName, index: 0) }

  /// The raw endpoint on the remote's channel, once it announced it.
  func endpoint() async throws -> RPMsgRawEndpoint {
    try await eventually("the remote's channel") { !raw.openEndpoints.isEmpty }
    return try #require(raw.openEndpoints.first)
  }

  /// Sends `message` and waits for its echo.
  func echo(_ message: [UInt8]) async throws -> [UInt8] {
    let endpoint = try await endpoint()
    try await endpoint.send(message)
    for try await reply in endpoint.messages { return reply.payload }
    return []
  }

  func close() async { await registry.remove(processor) }
}

/// Polls `condition` until it holds, failing after `seconds` (only so a broken build cannot
/// hang the suite; nothing depends on speed).
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
