/// One remote processor as `rprocd` should set it up. See `docs/rprocd-config.md`.
public struct ProcessorConfiguration: Hashable, Sendable {
  /// Where the core runs.
  public enum Platform: String, Hashable, Sendable, CaseIterable {
    /// An instruction-set emulator in the daemon's process.
    case emulated
    /// A native Linux process pinned to stolen CPUs.
    case process
  }

  /// The emulated core (for ``Platform/emulated``).
  public enum Machine: String, Hashable, Sendable, CaseIterable {
    /// MIPS32r2 (24Kf), little-endian: the seed MIPS remoteproc driver's core.
    case mips32
    /// MIPS32r2, big-endian firmware (`-EB`).
    case mips32BigEndian = "mips32be"
    /// RISC-V RV32IMAC.
    case rv32
    /// ARM Cortex-M4 (Thumb-2), the successor of OMAP4's Cortex-M3.
    case cortexM4 = "cortex-m4"

    /// Device addresses are 32 bits on every emulated machine.
    var addressLimit: UInt64 { 1 << 32 }
  }

  /// What `recovery` starts as. Linux: `recovery` attribute.
  public enum Recovery: String, Hashable, Sendable, CaseIterable { case enabled, disabled }

  /// What `coredump` starts as. Linux: `coredump` attribute (`rproc_dump_mechanism`).
  public enum Coredump: String, Hashable, Sendable, CaseIterable { case disabled, enabled, inline }

  /// What happens to a running remote when the daemon exits (SIGTERM).
  public enum ExitAction: String, Hashable, Sendable, CaseIterable {
    /// Stop it (Linux: `rproc_shutdown`).
    case stop
    /// Leave it running, to be attached again on restart (Linux: `rproc_detach`).
    /// Only a ``Platform/process`` core outlives the daemon.
    case detach
  }

  /// The device name and sysfs folder, `remoteprocN`.
  public var deviceName: String
  /// N of `remoteprocN`.
  public var index: Int
  /// The `name` attribute (Linux: `rproc->name`).
  public var name: String
  public var platform: Platform
  /// Set for ``Platform/emulated``, nil for ``Platform/process``.
  public var machine: Machine?
  /// CPUs taken from the host for the core, if any (Linux: the MIPS driver's `cpus`).
  public var cpus: CPUSet?
  /// Memory windows; empty means the machine's default map.
  public var memory: [MemoryWindowConfiguration]
  /// Absolute path of the folder firmware names are looked up in (Linux: `/lib/firmware`).
  public var firmwareDirectory: String
  /// The firmware booted by default (Linux: the platform driver's firmware name).
  public var firmware: String
  /// Boot when the daemon starts. Linux: `rproc->auto_boot`.
  public var autoBoot: Bool
  public var recovery: Recovery
  public var coredump: Coredump
  public var onExit: ExitAction
  /// Treat a vring device address of 0 as "allocate" (Linux 4.x); needed by old firmware
  /// such as the MIPS example.
  public var legacyZeroVringAddress: Bool
  /// How a ``Platform/process`` core runs; nil for ``Platform/emulated``.
  public var process: ProcessSettings?
}

/// The settings only a native-process core has (`platform = "process"`).
public struct ProcessSettings: Hashable, Sendable {
  /// How host and firmware wait for doorbells.
  public enum Doorbell: String, Hashable, Sendable, CaseIterable {
    /// Sleep in the kernel at once: no CPU burnt, a wake-up costs the scheduler's latency.
    case sleep
    /// Poll briefly (50 µs), then sleep: microsecond round trips for a busy remote.
    case adaptive
  }

  public var doorbell: Doorbell
  /// Bytes of memory shared with the firmware process (a multiple of 4 KiB).
  public var memorySize: UInt64
  /// Report a `watchdog` crash when the firmware's heartbeat stands still this long; nil: no
  /// watchdog.
  public var watchdogMilliseconds: UInt64?
  /// Where the state file that lets a restarted daemon attach goes (nil: the platform's
  /// default, `$XDG_RUNTIME_DIR/swift-remoteproc`, else `/tmp/swift-remoteproc-<uid>`).
  public var stateDirectory: String?

  public static let defaultMemorySize: UInt64 = 1 << 20

  public init(
    doorbell: Doorbell = .sleep, memorySize: UInt64 = ProcessSettings.defaultMemorySize,
    watchdogMilliseconds: UInt64? = nil, stateDirectory: String? = nil
  ) {
    self.doorbell = doorbell
    self.memorySize = memorySize
    self.watchdogMilliseconds = watchdogMilliseconds
    self.stateDirectory = stateDirectory
  }
}

/// A range of device addresses backed by host memory. Maps to the core's `MemoryWindow`.
public struct MemoryWindowConfiguration: Hashable, Sendable {
  public enum Kind: String, Hashable, Sendable, CaseIterable {
    /// The core may allocate carveouts, vrings and buffers here.
    case pool
    /// Only firmware asking for these exact addresses gets them (an SRAM, a mailbox).
    case fixed
  }

  public var name: String
  public var deviceAddress: UInt64
  public var size: UInt64
  public var kind: Kind

  public init(name: String, deviceAddress: UInt64, size: UInt64, kind: Kind) {
    self.name = name
    self.deviceAddress = deviceAddress
    self.size = size
    self.kind = kind
  }
}
