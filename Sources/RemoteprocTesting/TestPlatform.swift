import Firmware
import Foundation
import Remoteproc
import SharedMemory
import Synchronization

/// A platform for testing the core deterministically: the "firmware" is a Swift closure
/// that runs on its own thread against the same shared memory the core loads into.
///
/// This is a test aid, not a product platform: it executes nothing from the image (the
/// closure stands in for the code) and exists so the lifecycle, resources, crash and
/// recovery logic can be exercised in milliseconds. Any operation can be made to fail.
public final class TestPlatform: RemoteProcessorPlatform, @unchecked Sendable {
  // @unchecked: every mutable field is behind `state` (a Mutex); `memory` and `mapping`
  // are immutable after init.
  public static let ramBase: UInt64 = 0x1000_0000
  public static let ramSize = 4 << 20

  public enum Operation: String, Hashable, Sendable, CaseIterable {
    case checkImage, prepare, start, stop, attach, detach
  }

  public let platformName = "test"
  public let memory: PlatformMemory
  private let mapping: SharedMapping

  private struct State {
    var failures: Set<Operation> = []
    var calls: [Operation: Int] = [:]
    var unprepares = 0
    var program: TestFirmwareProgram?
    var run: TestFirmwareContext?
    var kicks: [UInt32] = []
    var runningAtRegistration = false
    var loadedTable: (UInt64, Int)?
  }
  private let state = Mutex(State())

  /// Firmware threads of this platform still alive (for leak checks).
  public var liveThreads: Int { threads.load(ordering: .sequentiallyConsistent) }
  let threads = Atomic<Int>(0)

  /// - Parameter extraWindows: more memory (a fixed device-memory window, a named carveout).
  public init(extraWindows: [(name: String, deviceAddress: UInt64, length: Int, pool: Bool)] = []) throws {
    let total = Self.ramSize + extraWindows.reduce(0) { $0 + $1.length }
    mapping = try SharedMapping.anonymous(count: total)
    var windows = [
      MemoryWindow(
        name: "ram", deviceAddress: Self.ramBase, physicalAddress: 0x8000_0000,
        region: try mapping.region.slice(at: 0, length: Self.ramSize))
    ]
    var offset = Self.ramSize
    for extra in extraWindows {
      windows.append(
        MemoryWindow(
          name: extra.name, deviceAddress: extra.deviceAddress,
          region: try mapping.region.slice(at: offset, length: extra.length), isAllocationPool: extra.pool))
      offset += extra.length
    }
    memory = PlatformMemory(windows)
  }

  /// The Swift code that plays the firmware from the next start on.
  public func setProgram(_ program: @escaping TestFirmwareProgram) {
    state.withLock { $0.program = program }
  }

  /// Makes `operation` throw from now on (until `succeed`).
  public func fail(_ operation: Operation) { _ = state.withLock { $0.failures.insert(operation) } }
  public func succeed(_ operation: Operation) { _ = state.withLock { $0.failures.remove(operation) } }

  /// How often each operation ran.
  public func calls(_ operation: Operation) -> Int { state.withLock { $0.calls[operation] ?? 0 } }
  public var unprepareCalls: Int { state.withLock { $0.unprepares } }
  /// Vring notify ids the host kicked, in order.
  public var kicks: [UInt32] { state.withLock { $0.kicks } }

  /// Pretends the remote was started by someone else before registration, with its table at
  /// `tableAddress` (for attach tests).
  public func pretendRunning(tableAddress: UInt64, tableLength: Int) {
    state.withLock {
      $0.runningAtRegistration = true
      $0.loadedTable = (tableAddress, tableLength)
    }
  }

  public var isRunningAtRegistration: Bool { state.withLock { $0.runningAtRegistration } }

  private func record(_ operation: Operation) throws(RemoteprocError) {
    let fails = state.withLock { s -> Bool in
      s.calls[operation, default: 0] += 1
      return s.failures.contains(operation)
    }
    if fails { throw RemoteprocError(.platform, "test platform: \(operation.rawValue) failed as the test asked") }
  }

  public func checkImage(_ image: ELFImage) throws(RemoteprocError) {
    try record(.checkImage)
    guard image.machine == .arm else {
      throw RemoteprocError(.malformedFirmware, "test platform runs ARM images, not \(image.machine)")
    }
  }

  public func prepare() async throws(RemoteprocError) { try record(.prepare) }
  public func unprepare() async { state.withLock { $0.unprepares += 1 } }

  public func start(bootAddress: UInt64, notifier: RemoteprocNotifier) async throws(RemoteprocError) {
    try record(.start)
    launch(bootAddress: bootAddress, notifier: notifier)
  }

  public func attach(notifier: RemoteprocNotifier) async throws(RemoteprocError) {
    try record(.attach)
    launch(bootAddress: Self.ramBase, notifier: notifier)
  }

  private func launch(bootAddress: UInt64, notifier: RemoteprocNotifier) {
    let program = state.withLock { $0.program }
    let context = TestFirmwareContext(
      memory: memory, bootAddress: bootAddress, notifier: notifier, platform: self)
    state.withLock { $0.run = context }
    guard let program else { return }
    context.launch(program)
  }

  public func stop() async throws(RemoteprocError) {
    try record(.stop)
    let run = state.withLock { s -> TestFirmwareContext? in
      defer { s.run = nil }
      return s.run
    }
    await run?.terminate()
  }

  public func detach() async throws(RemoteprocError) {
    try record(.detach)
    // The firmware keeps running: the context stays, the host just stops listening.
  }

  public func kick(notifyID: UInt32) {
    let run = state.withLock { s -> TestFirmwareContext? in
      s.kicks.append(notifyID)
      return s.run
    }
    run?.hostKicked(notifyID)
  }

  public func loadedResourceTable() throws(RemoteprocError) -> (deviceAddress: UInt64, length: Int)? {
    state.withLock { $0.loadedTable.map { (deviceAddress: $0.0, length: $0.1) } }
  }

  /// The running firmware's context, if any.
  public var currentRun: TestFirmwareContext? { state.withLock { $0.run } }

  /// Stops the firmware thread of an attached or detached run (tests clean up with it).
  public func terminateFirmware() async {
    let run = state.withLock { s -> TestFirmwareContext? in
      defer { s.run = nil }
      return s.run
    }
    await run?.terminate()
  }
}
