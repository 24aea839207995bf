import Foundation
import RPMsg
import Remoteproc
import RemoteprocNative
import RemoteprocProcess
import RemoteprocVirtio
import Synchronization

/// `rproc bench rpmsg-process`: rpmsg between this process (the host) and a native firmware
/// process (`rpmsg-bench-native.elf`, the C SDK's host build) on the process platform, each
/// pinned to its own CPU (the platform's `cpus`: the remote gets one, the host's threads
/// leave it), against baselines measured in the same run by `pingpong-native`: two processes
/// passing 32 bytes through shared memory with futex wake-ups (the floor of a sleeping
/// doorbell) or busy-polling (the floor), and through a Unix `SOCK_SEQPACKET` socket pair (what
/// users would pick instead).
///
/// - round trip: the host sends 32 bytes to `rpmsg-bench-echo` and times until the echo
///   reaches its callback; the next send is made from that callback (on the host's doorbell
///   thread), so a round trip is two doorbells and two wake-ups, as in the floor.
/// - one-way: the host try-sends N messages to `rpmsg-bench-sink` as fast as buffers allow
///   in bursts of up to 256 (as many as the ring has buffers) that ring the doorbell once
///   (``ProcessPlatform/batchingKicks(_:)``),
///   waiting for buffers only when all are in flight, then one to `rpmsg-bench-count`,
///   whose answer (the sink's count, checked) ends the timing. Notifications are suppressed
///   with EVENT_IDX and by the doorbells (a ring enters the kernel only when the other side
///   sleeps), and the firmware takes every message available per wake-up.
///
/// Both with the default sleeping doorbell and with the adaptive one (poll 50 µs, then sleep).
public struct RPMsgProcessBenchmark: Sendable {
  public struct Result: Codable, Hashable, Sendable {
    public var rtt_ns_p50_32: Double
    public var rtt_ns_p99_32: Double
    public var oneway_msgs_per_s_32: Double
    public var oneway_msgs_per_s_496: Double
    public var rtt_ns_p50_32_adaptive: Double
    public var rtt_ns_p99_32_adaptive: Double
    public var oneway_msgs_per_s_32_adaptive: Double
    public var oneway_msgs_per_s_496_adaptive: Double
    public var floor_futex_rtt_ns_p50_32: Double
    public var floor_spin_rtt_ns_p50_32: Double
    public var socket_rtt_ns_p50_32: Double
    public var floor_futex_rtt_ns_p99_32: Double
    public var socket_rtt_ns_p99_32: Double
    /// The CPUs: the host's threads run on the others.
    public var remote_cpu: Int?
    public var host_cpu: Int?
    public var round_trips: Int
    public var messages: Int
  }

  /// The folder with `rpmsg-bench-native.elf` and `pingpong-native` (firmware/build).
  public let firmwareDirectory: String
  public let roundTrips: Int
  public let messages: Int
  /// The remote's CPU (nil: no pinning) and the CPU the baselines' host side is pinned to.
  public let remoteCPU: Int?
  public let hostCPU: Int?

  public init(firmwareDirectory: String, roundTrips: Int = 20_000, messages: Int = 1_000_000, remoteCPU: Int?, hostCPU: Int?) {
    self.firmwareDirectory = firmwareDirectory
    self.roundTrips = roundTrips
    self.messages = messages
    self.remoteCPU = remoteCPU
    self.hostCPU = hostCPU
  }

  /// The default CPUs: the remote on the last CPU, the host on the first; none on one CPU.
  public static var defaultCPUs: (remote: Int?, host: Int?) {
    let count = ProcessInfo.processInfo.activeProcessorCount
    return count >= 2 ? (count - 1, 0) : (nil, nil)
  }

  public struct Failure: Error, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
  }

  public func run() async throws -> Result {
    let futex = try baseline("futex")
    let spin = try baseline("spin")
    let socket = try baseline("socket")
    let sleeping = try await measure(.sleep)
    let adaptive = try await measure(.adaptive)
    return Result(
      rtt_ns_p50_32: sleeping.p50, rtt_ns_p99_32: sleeping.p99,
      oneway_msgs_per_s_32: sleeping.oneway32, oneway_msgs_per_s_496: sleeping.oneway496,
      rtt_ns_p50_32_adaptive: adaptive.p50, rtt_ns_p99_32_adaptive: adaptive.p99,
      oneway_msgs_per_s_32_adaptive: adaptive.oneway32, oneway_msgs_per_s_496_adaptive: adaptive.oneway496,
      floor_futex_rtt_ns_p50_32: futex.p50, floor_spin_rtt_ns_p50_32: spin.p50, socket_rtt_ns_p50_32: socket.p50,
      floor_futex_rtt_ns_p99_32: futex.p99, socket_rtt_ns_p99_32: socket.p99,
      remote_cpu: remoteCPU, host_cpu: hostCPU, round_trips: roundTrips, messages: messages)
  }

  // MARK: Baselines

  /// Runs `pingpong-native <mode>` and reads its percentiles.
  func baseline(_ mode: String) throws -> (p50: Double, p99: Double) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: firmwareDirectory).appendingPathComponent("pingpong-native")
    process.arguments = [mode, "\(roundTrips)", "\(hostCPU ?? -1)", "\(remoteCPU ?? -1)"]
    let output = Pipe()
    process.standardOutput = output
    try process.run()
    let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    guard process.terminationStatus == 0 else { throw Failure("pingpong-native \(mode) failed (status \(process.terminationStatus))") }
    var values: [String: Double] = [:]
    for field in text.split(whereSeparator: \.isWhitespace) {
      let pair = field.split(separator: "=")
      if pair.count == 2, let value = Double(pair[1]) { values[String(pair[0])] = value }
    }
    guard let p50 = values["p50_ns"], let p99 = values["p99_ns"] else {
      throw Failure("pingpong-native \(mode) printed \(text.debugDescription)")
    }
    return (p50, p99)
  }

  // MARK: rpmsg to a native firmware

  struct Figures {
    var p50: Double
    var p99: Double
    var oneway32: Double
    var oneway496: Double
  }

  func measure(_ doorbell: DoorbellMode) async throws -> Figures {
    let driver = BenchDriver()
    let registry = RemoteprocRegistry()
    let drivers = RemoteprocVirtioDrivers(newBus: { _, _, bus in bus.register(driver) })
    let platform = try ProcessPlatform(
      name: "bench-\(getpid())-\(doorbell == .sleep ? "sleep" : "adaptive")",
      options: .init(
        cpus: remoteCPU.map { [$0] } ?? [], doorbell: doorbell,
        stateDirectory: FileManager.default.temporaryDirectory.appendingPathComponent("rproc-bench-\(getpid())").path,
        exitsWithHost: true))
    let processor = await registry.add(
      name: "bench", firmware: "rpmsg-bench-native.elf", platform: platform,
      firmwareStore: FirmwareStore(directories: [firmwareDirectory]), drivers: drivers
    ).processor
    let stateDirectory = platform.options.stateDirectory ?? ""
    do {
      try await processor.boot()
      let echo = try await driver.channel("rpmsg-bench-echo")
      let sink = try await driver.channel("rpmsg-bench-sink")
      let count = try await driver.channel("rpmsg-bench-count")
      let (p50, p99) = try await driver.roundTrips(on: echo, count: roundTrips, warmup: min(1000, roundTrips))
      let oneway32 = try await driver.oneway(sink: sink, count: count, messages: messages, size: 32, platform: platform)
      let oneway496 = try await driver.oneway(sink: sink, count: count, messages: messages, size: 496, platform: platform)
      await registry.remove(processor)
      try? FileManager.default.removeItem(atPath: stateDirectory)
      return Figures(p50: p50, p99: p99, oneway32: oneway32, oneway496: oneway496)
    } catch {
      await registry.remove(processor)
      try? FileManager.default.removeItem(atPath: stateDirectory)
      throw error
    }
  }
}

/// The host side of the benchmark: binds the firmware's three channels, runs the ping-pong
/// from its receive callback, and waits for the count's answer.
final class BenchDriver: RPMsgDriver {
  let serviceNames = ["rpmsg-bench-echo", "rpmsg-bench-sink", "rpmsg-bench-count"]
  private let channels = Mutex<[String: RPMsgChannel]>([:])
  private let pingPong = Mutex<PingPong?>(nil)
  private let countWaiter = Mutex<CheckedContinuation<UInt32, Never>?>(nil)

  struct PingPong {
    var payload: [UInt8]
    var remaining: Int
    var warmup: Int
    var started: ContinuousClock.Instant
    var samples: [Int64]
    var done: CheckedContinuation<[Int64], Never>?
  }

  func probe(_ channel: RPMsgChannel) throws(RPMsgError) {
    channels.withLock { $0[channel.name] = channel }
  }

  func channel(_ name: String) async throws -> RPMsgChannel {
    let clock = ContinuousClock()
    let deadline = clock.now.advanced(by: .seconds(20))
    while clock.now < deadline {
      if let channel = channels.withLock({ $0[name] }) { return channel }
      try await Task.sleep(for: .milliseconds(1))
    }
    throw RPMsgProcessBenchmark.Failure("the firmware did not announce \(name) within 20 s")
  }

  func receive(_ message: inout RPMsgReceivedMessage, on channel: RPMsgChannel) {
    switch channel.name {
    case "rpmsg-bench-echo":
      let now = ContinuousClock.now
      let next = pingPong.withLock { state -> [UInt8]? in
        guard var s = state else { return nil }
        if s.warmup > 0 {
          s.warmup -= 1
        } else {
          let (seconds, attoseconds) = (now - s.started).components
          s.samples.append(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
          s.remaining -= 1
        }
        if s.remaining == 0 {
          s.done?.resume(returning: s.samples)
          state = nil
          return nil
        }
        s.payload[0] &+= 1
        s.started = ContinuousClock.now
        state = s
        return s.payload
      }
      if let next { try? channel.endpoint.trySend(next.span, to: channel.destination) }
    case "rpmsg-bench-count":
      let value = message.withPayload { span -> UInt32 in
        guard span.count >= 4 else { return .max }
        return UInt32(span[0]) | UInt32(span[1]) << 8 | UInt32(span[2]) << 16 | UInt32(span[3]) << 24
      }
      countWaiter.withLock { $0?.resume(returning: value); $0 = nil }
    default:
      break
    }
  }

  /// Times `count` echo round trips of 32 bytes after `warmup` untimed ones; returns p50, p99.
  func roundTrips(on echo: RPMsgChannel, count: Int, warmup: Int) async throws -> (Double, Double) {
    let payload = [UInt8](repeating: 0x5A, count: 32)
    var samples = await withCheckedContinuation { (done: CheckedContinuation<[Int64], Never>) in
      pingPong.withLock {
        $0 = PingPong(
          payload: payload, remaining: count, warmup: warmup, started: ContinuousClock.now,
          samples: [], done: done)
        $0?.samples.reserveCapacity(count)
      }
      try? echo.endpoint.trySend(payload.span, to: echo.destination)
    }
    guard samples.count == count else { throw RPMsgProcessBenchmark.Failure("the ping-pong stopped early") }
    samples.sort()
    return (Double(samples[count / 2]), Double(samples[count * 99 / 100]))
  }

  /// Sends one message; false when no buffer is free.
  static func trySend(_ payload: [UInt8], on endpoint: RPMsgEndpoint, to destination: EndpointAddress) throws(RPMsgError) -> Bool {
    do {
      try endpoint.trySend(payload.span, to: destination)
      return true
    } catch {
      if error.code == .noBuffer { return false }
      throw error
    }
  }

  private func askForCount(on channel: RPMsgChannel) {
    Task {
      do { try await channel.send([0]) } catch { countWaiter.withLock { $0?.resume(returning: .max); $0 = nil } }
    }
  }

  /// Sends `messages` payloads of `size` bytes to the sink, then asks for the count; returns
  /// messages per second.
  func oneway(
    sink: RPMsgChannel, count: RPMsgChannel, messages: Int, size: Int, platform: ProcessPlatform
  ) async throws -> Double {
    let payload = [UInt8](repeating: 0xA5, count: size)
    let endpoint = sink.endpoint, destination = sink.destination
    let clock = ContinuousClock()
    let start = clock.now
    var sent = 0
    while sent < messages {
      // Bursts of up to 256 sends (the ring's buffers) ring the doorbell once.
      let burst = try platform.batchingKicks { () throws(RPMsgError) -> Int in
        var n = 0
        while n < 256, sent + n < messages, try Self.trySend(payload, on: endpoint, to: destination) { n += 1 }
        return n
      }
      sent += burst
      if burst == 0 { try await endpoint.waitUntilWritable(timeout: .seconds(15)) }
    }
    let counted = await withCheckedContinuation { (waiter: CheckedContinuation<UInt32, Never>) in
      countWaiter.withLock { $0 = waiter }
      askForCount(on: count)
    }
    let elapsed = clock.now - start
    guard counted == UInt32(messages) else {
      throw RPMsgProcessBenchmark.Failure("the sink counted \(counted) of \(messages) messages of \(size) bytes")
    }
    let (seconds, attoseconds) = elapsed.components
    return Double(messages) / (Double(seconds) + Double(attoseconds) / 1e18)
  }
}
