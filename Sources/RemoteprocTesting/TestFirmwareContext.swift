import Foundation
import Remoteproc
import SharedMemory
import Synchronization

/// What the Swift "firmware" of a ``TestPlatform`` sees: the memory, the boot address, the
/// doorbell in both directions, a way to crash, and a stop request.
public typealias TestFirmwareProgram = @Sendable (TestFirmwareContext) -> Void

public final class TestFirmwareContext: @unchecked Sendable {
  // @unchecked: mutable state is behind `condition` (an NSCondition); the rest is immutable.
  public let memory: PlatformMemory
  public let bootAddress: UInt64
  private let notifier: RemoteprocNotifier
  private let condition = NSCondition()
  private var pendingKicks: [UInt32] = []
  private var stopping = false
  private var finished = false
  private var launched = false

  private let platform: TestPlatform

  init(memory: PlatformMemory, bootAddress: UInt64, notifier: RemoteprocNotifier, platform: TestPlatform) {
    self.platform = platform
    self.memory = memory
    self.bootAddress = bootAddress
    self.notifier = notifier
  }

  func launch(_ program: @escaping TestFirmwareProgram) {
    condition.lock()
    launched = true
    condition.unlock()
    _ = platform.threads.add(1, ordering: .sequentiallyConsistent)
    let thread = Thread { [self, platform] in
      program(self)
      condition.lock()
      finished = true
      condition.broadcast()
      condition.unlock()
      _ = platform.threads.subtract(1, ordering: .sequentiallyConsistent)
    }
    thread.name = "test-firmware"
    thread.start()
  }

  /// Asks the program to return and waits until it has.
  func terminate() async {
    requestStop()
    while !isFinished {
      try? await Task.sleep(for: .milliseconds(1))
    }
  }

  private func requestStop() {
    condition.lock()
    stopping = true
    condition.broadcast()
    condition.unlock()
  }

  /// True when no program runs (it returned, or none was launched).
  private var isFinished: Bool {
    condition.lock()
    defer { condition.unlock() }
    return finished || !launched
  }

  func hostKicked(_ notifyID: UInt32) {
    condition.lock()
    pendingKicks.append(notifyID)
    condition.broadcast()
    condition.unlock()
  }

  /// True once the host stopped the remote: the program should return.
  public var shouldStop: Bool {
    condition.lock()
    defer { condition.unlock() }
    return stopping
  }

  /// Waits for host kicks (or a stop request, or the timeout) and returns the notify ids
  /// kicked since the last call; empty when stopping or timed out.
  public func waitForKicks(timeout: Duration = .seconds(5)) -> [UInt32] {
    let deadline = Date().addingTimeInterval(Double(timeout.components.seconds) + Double(timeout.components.attoseconds) / 1e18)
    condition.lock()
    defer { condition.unlock() }
    while pendingKicks.isEmpty && !stopping {
      if !condition.wait(until: deadline) { break }
    }
    defer { pendingKicks.removeAll() }
    return pendingKicks
  }

  /// Blocks until the host asks the firmware to stop.
  public func idleUntilStopped() {
    condition.lock()
    while !stopping { condition.wait() }
    condition.unlock()
  }

  /// Rings the host's doorbell for vring `notifyID`.
  public func kickHost(_ notifyID: UInt32) { notifier.vringInterrupt(notifyID: notifyID) }

  /// Reports a crash, as a core's fault handler would.
  public func crash(_ type: CrashType, details: String) { notifier.reportCrash(type, details: details) }

  /// The memory at a device address.
  public func translate(_ da: UInt64, _ length: Int) -> MemoryRegion? {
    memory.translate(deviceAddress: da, length: length)
  }

  /// Appends text to a NUL-terminated trace buffer at `da` of `length` bytes.
  public func trace(_ text: String, bufferAt da: UInt64, length: Int) {
    guard let region = translate(da, length) else { return }
    var used = 0
    while used < length, (try? region.loadByte(at: used)) ?? 0 != 0 { used += 1 }
    let bytes = Array(text.utf8.prefix(max(0, length - used - 1)))
    try? region.write(bytes + [0], at: used)
  }
}
