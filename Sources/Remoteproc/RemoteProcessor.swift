import Firmware
import Foundation
import SharedMemory

/// One remote processor: its firmware, lifecycle, resources and attributes.
/// Linux: `struct rproc` and `remoteproc_core.c`.
///
/// Lifecycle operations (boot, shutdown, detach, recovery, attribute writes) run one at a
/// time in arrival order, like operations under Linux's `rproc->lock`; reads never wait for
/// them. The platform reports crashes and vring interrupts through a
/// ``RemoteprocNotifier`` on any thread.
public actor RemoteProcessor {
  /// `remoteproc0`, `remoteproc1`, … Linux: `dev_name(&rproc->dev)`.
  public nonisolated let deviceName: String
  /// Linux: `rproc->name`, the `name` attribute.
  public nonisolated let name: String
  public nonisolated let index: Int
  public nonisolated let platform: any RemoteProcessorPlatform
  public nonisolated let events: EventBroadcaster
  nonisolated let firmwareStore: FirmwareStore
  nonisolated let drivers: (any VirtioDriverFactory)?
  nonisolated let options: Options

  public internal(set) var state: ProcessorState
  /// Linux: `rproc->firmware`.
  public internal(set) var firmwareName: String
  /// Linux: `rproc->recovery_disabled`.
  public internal(set) var recoveryDisabled: Bool
  public internal(set) var coredumpMode: CoredumpMode
  /// Crashes handled so far. Linux: `rproc->crash_cnt`.
  public internal(set) var crashCount = 0
  /// Crash reports ignored because a crash was already being handled or the reporter's
  /// run had ended.
  public internal(set) var ignoredCrashReports = 0
  /// Core dumps taken, oldest first (at most ``Options/coredumpLimit``).
  public internal(set) var coredumps: [Coredump] = []
  /// Linux: `rproc->power`.
  public internal(set) var powerReferences = 0

  var session: BootSession?
  var lock = LifecycleLock()
  var generation = 0
  var pendingCrash: (type: CrashType, details: String)?

  /// Choices a registry makes for a processor.
  public struct Options: Sendable {
    /// Boot when registered. Linux: `rproc->auto_boot`.
    public var autoBoot = false
    public var recoveryDisabled = false
    public var coredump = CoredumpMode.disabled
    /// Treat a vring device address of 0 as "allocate", as Linux 4.x did; old firmware
    /// (the MIPS example) relies on it. Current Linux treats 0 as a fixed address.
    public var legacyZeroVringAddress = false
    /// Dumps kept in memory.
    public var coredumpLimit = 4
    public init() {}
  }

  init(
    index: Int, name: String, firmware: String, platform: any RemoteProcessorPlatform,
    firmwareStore: FirmwareStore, drivers: (any VirtioDriverFactory)?, options: Options,
    events: EventBroadcaster
  ) {
    self.index = index
    self.deviceName = "remoteproc\(index)"
    self.name = name
    self.firmwareName = firmware
    self.platform = platform
    self.firmwareStore = firmwareStore
    self.drivers = drivers
    self.options = options
    self.events = events
    self.recoveryDisabled = options.recoveryDisabled
    self.coredumpMode = options.coredump
    self.state = platform.isRunningAtRegistration ? .detached : .offline
  }

  // MARK: Serialization

  func acquire() async {
    if lock.tryAcquire() { return }
    await withCheckedContinuation { lock.enqueue($0) }
  }

  func release() {
    lock.release()?.resume()
  }

  func setState(_ new: ProcessorState) {
    guard new != state else { return }
    let old = state
    state = new
    events.send(.stateChanged(processor: deviceName, from: old, to: new))
  }

  /// A notifier for one run: its crash reports reach this processor tagged with the run.
  func makeNotifier() -> RemoteprocNotifier {
    generation += 1
    let run = generation
    return RemoteprocNotifier { [weak self] type, details in
      guard let self else { return }
      Task { await self.handleCrashReport(type, details: details, run: run) }
    }
  }

  /// The memory behind a device address range, through the platform.
  nonisolated func translate(_ da: UInt64, _ length: Int) -> MemoryRegion? {
    platform.translate(deviceAddress: da, length: length)
  }

  /// Ends every event stream; used when the processor is removed.
  func closeEvents() { events.finish() }
}
