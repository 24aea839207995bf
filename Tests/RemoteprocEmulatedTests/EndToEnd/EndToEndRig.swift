import Firmware
import Foundation
import RPMsg
import RPMsgDrivers
import Remoteproc
import RemoteprocEmulated
import RemoteprocVirtio
import Synchronization
import Testing
import Virtio
import VirtioSerial

/// The product's whole host stack around emulated cores, as `rproc run` and rprocd assemble
/// it: a `RemoteprocRegistry`, one `EmulatedPlatform` per core, `RemoteprocVirtioDrivers`
/// with the rpmsg drivers registered on every bus, and the real firmware from
/// `firmware/build`. Serial bytes, tty bytes, raw messages and driver log lines are
/// collected per processor for the tests to wait on.
final class EndToEndRig: Sendable {
  struct Core: Sendable {
    let processor: RemoteProcessor
    let platform: EmulatedPlatform
    var name: String { processor.deviceName }
    var core: EmulatedCore { platform.core }
    var machine: EmulatedMachine { platform.core.machine }
  }

  let registry = RemoteprocRegistry()
  let store = FirmwareStore(directories: [FirmwareImages.buildDirectory.path])
  let serial = ByteInbox()
  let tty = ByteInbox()
  /// Messages echoed on `rpmsg-crashy` channels, per bus.
  let crashy = ByteInbox()
  let sample = RPMsgClientSampleDriver()
  let ttyDriver: RPMsgTTYDriver
  /// `rpmsg-crashy` channels (crashy's command endpoint), as raw message endpoints.
  let crashyDriver: RPMsgRawDriver
  let logLines = LineLog()
  let drivers: RemoteprocVirtioDrivers

  /// - Parameter rpmsgFeatures: what the host accepts of an rpmsg vdev's offer.
  init(rpmsgFeatures: VirtioFeatures = [.rpmsgNameService, .eventIndex]) {
    let tty = self.tty
    let ttyDriver = RPMsgTTYDriver { port in
      let bus = ObjectIdentifier(port.channel.bus)
      Task {
        for await chunk in port.input { tty.append("\(bus)", chunk) }
      }
    }
    let crashy = self.crashy
    let crashyDriver = RPMsgRawDriver(serviceNames: ["rpmsg-crashy"]) { endpoint in
      let bus = ObjectIdentifier(endpoint.channel.bus)
      Task {
        do {
          for try await message in endpoint.messages { crashy.append("\(bus)", message.payload) }
        } catch {}  // the channel was reset: the firmware crashed or stopped
      }
    }
    let sample = self.sample
    let serial = self.serial
    let logLines = self.logLines
    self.ttyDriver = ttyDriver
    self.crashyDriver = crashyDriver
    drivers = RemoteprocVirtioDrivers(
      rpmsgFeatures: rpmsgFeatures,
      newBus: { _, _, bus in
        bus.register(sample)
        bus.register(ttyDriver)
        bus.register(crashyDriver)
      },
      serialReceive: { processor, _, bytes in serial.append(processor, bytes) },
      log: { line in logLines.append(line) })
  }

  /// Registers `firmware` on a new core for `machine` (not booted).
  func add(
    _ firmware: String, on machine: EmulatedMachine,
    core options: EmulatedCore.Options = .init(watchdogTimeout: nil),
    options processorOptions: RemoteProcessor.Options = .init(), store: FirmwareStore? = nil
  ) async throws -> Core {
    try FirmwareImages.requireImages()
    let platform = try EmulatedPlatform(machine: machine, options: options)
    let processor = await registry.add(
      name: machine.name, firmware: firmware, platform: platform, firmwareStore: store ?? self.store,
      drivers: drivers, options: processorOptions
    ).processor
    return Core(processor: processor, platform: platform)
  }

  /// Shuts every processor down and removes it.
  func close() async {
    for processor in registry.all { await registry.remove(processor) }
  }

  /// The serial port of `core`'s vdev `index` (a firmware's serial vdev comes first).
  func port(_ core: Core, index: Int = 0) throws -> VirtioSerialPort {
    try #require(drivers.serialPort(processor: core.name, index: index))
  }

  /// Writes `bytes` to the serial port and returns the next `count` bytes received.
  func exchange(_ core: Core, _ bytes: [UInt8], replyCount count: Int) async throws -> [UInt8] {
    let port = try port(core)
    try await port.write(bytes, timeout: .seconds(10))
    return try await serial.take(core.name, count: count)
  }

  /// The `rpmsg-crashy` endpoint on `core`'s bus, once announced.
  func crashyEndpoint(_ core: Core) async throws -> RPMsgRawEndpoint {
    let bus = try #require(drivers.bus(processor: core.name, index: 1))
    var found: RPMsgRawEndpoint?
    try await until("the rpmsg-crashy channel of \(core.name)") {
      found = crashyDriver.openEndpoints.first { $0.channel.bus === bus && $0.channel.bus.isRunning }
      return found != nil
    }
    return found!
  }

  /// Sends `payload` on `core`'s rpmsg-crashy channel and returns the echo.
  func crashyEcho(_ core: Core, _ payload: [UInt8]) async throws -> [UInt8] {
    let endpoint = try await crashyEndpoint(core)
    try await endpoint.send(payload, timeout: .seconds(10))
    return try await crashy.take("\(ObjectIdentifier(endpoint.channel.bus))", count: payload.count)
  }

  /// The `rpmsg-tty` port on `core`'s bus, once announced.
  func ttyPort(_ core: Core, index: Int = 0) async throws -> RPMsgTTYPort {
    let bus = try #require(drivers.bus(processor: core.name, index: index))
    var found: RPMsgTTYPort?
    try await until("the rpmsg-tty channel of \(core.name)") {
      found = ttyDriver.openPorts.first { $0.channel.bus === bus && $0.isOpen }
      return found != nil
    }
    return found!
  }

  var log: [String] { logLines.all }
}

/// Runs `body` with a fresh rig and always shuts its processors down.
func withRig(
  rpmsgFeatures: VirtioFeatures = [.rpmsgNameService, .eventIndex],
  _ body: (EndToEndRig) async throws -> Void
) async throws {
  let rig = EndToEndRig(rpmsgFeatures: rpmsgFeatures)
  do {
    try await body(rig)
  } catch {
    await rig.close()
    throw error
  }
  await rig.close()
}

/// Log lines of the virtio drivers.
final class LineLog: Sendable {
  let lines = Mutex<[String]>([])
  func append(_ line: String) { lines.withLock { $0.append(line) } }
  var all: [String] { lines.withLock { $0 } }
}

/// Bytes per key (processor name or bus), appended on the delivering thread and taken by tests.
final class ByteInbox: Sendable {
  let bytes = Mutex<[String: [UInt8]]>([:])

  func append(_ key: String, _ chunk: [UInt8]) {
    bytes.withLock { $0[key, default: []] += chunk }
  }

  func count(_ key: String) -> Int { bytes.withLock { $0[key]?.count ?? 0 } }

  /// Waits for `count` bytes under `key` and removes them.
  func take(_ key: String, count: Int, seconds: Double = 20) async throws -> [UInt8] {
    try await until("\(count) bytes from \(key) (have \(self.count(key)))", seconds: seconds) {
      self.count(key) >= count
    }
    return bytes.withLock { all in
      let taken = Array(all[key, default: []].prefix(count))
      all[key, default: []].removeFirst(count)
      return taken
    }
  }
}

struct Timeout: Error, CustomStringConvertible {
  var description: String
}

/// Polls `condition` until it holds; throws after `seconds` (only a broken build waits that
/// long: no test depends on speed).
func until(
  _ what: @autoclosure () -> String, seconds: Double = 20, _ condition: () async throws -> Bool
) async throws {
  let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
  while try await !condition() {
    guard ContinuousClock.now < deadline else {
      throw Timeout(description: "timed out after \(seconds) s waiting for \(what())")
    }
    try await Task.sleep(for: .microseconds(100))
  }
}

/// What case-invert answers: ASCII letters with their case inverted, every other byte as is.
func caseInverted(_ bytes: [UInt8]) -> [UInt8] { invertedCase(bytes) }

/// A small deterministic generator (SplitMix64), so a failing string can be reproduced.
struct SplitMix64: RandomNumberGenerator {
  var state: UInt64
  init(seed: UInt64) { state = seed }
  mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
}

/// The process as /proc sees it, for leak checks.
enum ProcessCensus {
  /// The name of every thread of this process.
  static func threadNames() -> [String] {
    let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task")) ?? []
    return tasks.compactMap { task in
      (try? String(contentsOfFile: "/proc/self/task/\(task)/comm", encoding: .utf8))?
        .trimmingCharacters(in: .whitespacesAndNewlines)
    }
  }

  static func openFileDescriptors() -> Int {
    ((try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []).count
  }

  static func mappings() -> [Substring] {
    let maps = (try? String(contentsOfFile: "/proc/self/maps", encoding: .utf8)) ?? ""
    return maps.split(separator: "\n")
  }

  /// Resident set size in bytes (VmRSS).
  static func residentBytes() -> Int {
    let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
    guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
      let kilobytes = Int(line.split(separator: " ").dropFirst().first ?? "")
    else { return 0 }
    return kilobytes * 1024
  }
}
