/// The memfd a native-process firmware shares with its host, byte for byte.
/// Wire: `remoteproc_native.h` (tests pin every number here to it).
///
/// Byte `o` of the memfd has device address ``deviceAddressBase`` + `o`: the control page,
/// then the resource table, the trace area and the pool where the host allocates vrings,
/// rpmsg buffers and carveouts.
public enum NativeLayout {
  /// Wire: `RPROC_NATIVE_MAGIC` ("RPNP" in memory).
  public static let magic: UInt32 = 0x504E_5052
  /// Wire: `RPROC_NATIVE_VERSION`.
  public static let version: UInt32 = 1
  /// The environment variable that holds the memfd's descriptor number in the firmware
  /// process. Wire: `RPROC_NATIVE_ENV_FD`.
  public static let environmentVariable = "RPROC_SHM_FD"
  /// Device address of byte 0 of the memfd. Wire: `RPROC_NATIVE_DA_BASE`.
  public static let deviceAddressBase: UInt64 = 0x8000_0000
  /// The largest memfd: every device address fits in 32 bits. Wire: `RPROC_NATIVE_MAX_SIZE`.
  public static let maximumSize = 0x8000_0000
  public static let pageSize = 0x1000
  /// Wire: `RPROC_NATIVE_TABLE_OFFSET`, `RPROC_NATIVE_TABLE_SIZE`.
  public static let tableOffset = 0x1000
  public static let tableSize = 0x1000
  /// Wire: `RPROC_NATIVE_TRACE_OFFSET`, `RPROC_NATIVE_TRACE_SIZE`.
  public static let traceOffset = 0x2000
  public static let traceSize = 0x2000
  /// Wire: `RPROC_NATIVE_POOL_OFFSET`.
  public static let poolOffset = 0x4000
  /// The smallest memfd: the fixed pages and one pool page.
  public static let minimumSize = poolOffset + pageSize

  /// Where a native firmware's trace buffer is. Wire: `RPROC_NATIVE_TRACE_DA`.
  public static var traceDeviceAddress: UInt64 { deviceAddressBase + UInt64(traceOffset) }
  /// Where the host copies the resource table.
  public static var tableDeviceAddress: UInt64 { deviceAddressBase + UInt64(tableOffset) }

  /// Doorbell bit for notify ids of 31 and more. Wire: `RPROC_NATIVE_KICK_ANY`.
  public static let kickAnyBit: UInt32 = 31

  /// Offsets in the control page. Wire: `RPROC_NATIVE_OFF_*`.
  public enum Offset {
    public static let magic = 0x00
    public static let version = 0x04
    public static let size = 0x08
    public static let deviceBase = 0x0C
    public static let tableOffset = 0x10
    public static let tableSize = 0x14
    public static let traceOffset = 0x18
    public static let traceSize = 0x1C
    public static let poolOffset = 0x20
    public static let mode = 0x24
    public static let spinNanoseconds = 0x28
    public static let watchdogMilliseconds = 0x2C
    public static let hostEpoch = 0x30
    public static let toRemote = 0x40
    public static let toHost = 0x80
    public static let doorbellPending = 0x00
    public static let doorbellWaiting = 0x04
    public static let remoteEpoch = 0xC0
    public static let remotePID = 0xC4
    public static let heartbeat = 0xC8
    public static let abortCode = 0xCC
    public static let abortPC = 0xD0
    public static let abortSet = 0xD8
    /// Wire: `RPROC_NATIVE_CONTROL_SIZE`.
    public static let controlSize = 0x100
  }
}

/// How a receiver waits for a doorbell. Wire: `mode`, `spin_ns`.
public enum DoorbellMode: Hashable, Sendable {
  /// Sleep in `FUTEX_WAIT` at once: no CPU is burnt, every wake-up costs the kernel's
  /// scheduling latency. Wire: `RPROC_NATIVE_MODE_SLEEP`.
  case sleep
  /// Poll the doorbell for `spinNanoseconds`, then sleep. Wire: `RPROC_NATIVE_MODE_ADAPTIVE`.
  case adaptive(spinNanoseconds: UInt32)

  /// The adaptive mode with a 50 µs poll, a few thread wake-ups' worth on common machines.
  public static var adaptive: DoorbellMode { .adaptive(spinNanoseconds: 50_000) }

  var wireMode: UInt32 {
    if case .adaptive = self { 1 } else { 0 }
  }

  var spinNanoseconds: UInt32 {
    if case .adaptive(let spin) = self { spin } else { 0 }
  }

  init(wireMode: UInt32, spinNanoseconds: UInt32) {
    self = wireMode == 1 ? .adaptive(spinNanoseconds: spinNanoseconds) : .sleep
  }
}
