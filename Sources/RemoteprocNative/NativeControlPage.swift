import SharedMemory

/// The first page of a native firmware's memfd: the layout facts, the doorbells and the
/// start-up handshake. Wire: `struct rproc_native_control`.
public struct NativeControlPage: Sendable {
  /// The page (``NativeLayout/Offset/controlSize`` bytes at least).
  public let region: MemoryRegion

  public init(region: MemoryRegion) throws(NativeError) {
    guard region.count >= NativeLayout.Offset.controlSize else {
      throw NativeError(.badContract, "control page of \(region.count) bytes; it needs \(NativeLayout.Offset.controlSize)")
    }
    do { self.region = try region.slice(at: 0, length: NativeLayout.Offset.controlSize) } catch {
      throw NativeError(error, "control page")
    }
  }

  /// The doorbell the host rings and the firmware waits on.
  public var toRemote: NativeDoorbell { NativeDoorbell(page: region, offset: NativeLayout.Offset.toRemote) }
  /// The doorbell the firmware rings and the host waits on.
  public var toHost: NativeDoorbell { NativeDoorbell(page: region, offset: NativeLayout.Offset.toHost) }

  func load(_ offset: Int) throws(NativeError) -> UInt32 {
    do { return try region.loadAcquire(UInt32.self, at: offset, order: .host) } catch {
      throw NativeError(error, "control page at \(offset)")
    }
  }

  func store(_ value: UInt32, _ offset: Int) throws(NativeError) {
    do { try region.storeRelease(value, at: offset, order: .host) } catch {
      throw NativeError(error, "control page at \(offset)")
    }
  }

  /// Host: writes a fresh page for a memfd of `size` bytes whose resource table has
  /// `tableSize` bytes, with the doorbells cleared and `epoch` as the host epoch.
  public func initialize(
    size: Int, tableSize: Int, mode: DoorbellMode, watchdogMilliseconds: UInt32, epoch: UInt32
  ) throws(NativeError) {
    do { try region.fill(0, at: 0, count: region.count) } catch { throw NativeError(error, "control page") }
    try store(NativeLayout.version, NativeLayout.Offset.version)
    try store(UInt32(size), NativeLayout.Offset.size)
    try store(UInt32(NativeLayout.deviceAddressBase), NativeLayout.Offset.deviceBase)
    try store(UInt32(NativeLayout.tableOffset), NativeLayout.Offset.tableOffset)
    try store(UInt32(tableSize), NativeLayout.Offset.tableSize)
    try store(UInt32(NativeLayout.traceOffset), NativeLayout.Offset.traceOffset)
    try store(UInt32(NativeLayout.traceSize), NativeLayout.Offset.traceSize)
    try store(UInt32(NativeLayout.poolOffset), NativeLayout.Offset.poolOffset)
    try store(mode.wireMode, NativeLayout.Offset.mode)
    try store(mode.spinNanoseconds, NativeLayout.Offset.spinNanoseconds)
    try store(watchdogMilliseconds, NativeLayout.Offset.watchdogMilliseconds)
    try store(epoch, NativeLayout.Offset.hostEpoch)
    try store(NativeLayout.magic, NativeLayout.Offset.magic)  // last: the page is complete
  }

  /// Checks the facts the host wrote against the contract and a memfd of `size` bytes.
  public func validate(size: Int) throws(NativeError) {
    let magic = try load(NativeLayout.Offset.magic)
    guard magic == NativeLayout.magic else {
      throw NativeError(.badContract, "magic 0x\(String(magic, radix: 16)), expected 0x\(String(NativeLayout.magic, radix: 16)) (\"RPNP\")")
    }
    let version = try load(NativeLayout.Offset.version)
    guard version == NativeLayout.version else {
      throw NativeError(.badContract, "contract version \(version); this side speaks \(NativeLayout.version)")
    }
    let expected: [(String, Int, Int)] = [
      ("size", NativeLayout.Offset.size, size),
      ("device_base", NativeLayout.Offset.deviceBase, Int(NativeLayout.deviceAddressBase)),
      ("table_offset", NativeLayout.Offset.tableOffset, NativeLayout.tableOffset),
      ("trace_offset", NativeLayout.Offset.traceOffset, NativeLayout.traceOffset),
      ("trace_size", NativeLayout.Offset.traceSize, NativeLayout.traceSize),
      ("pool_offset", NativeLayout.Offset.poolOffset, NativeLayout.poolOffset),
    ]
    for (name, offset, value) in expected {
      let found = try load(offset)
      guard Int(found) == value else {
        throw NativeError(.badContract, "\(name) is 0x\(String(found, radix: 16)), expected 0x\(String(value, radix: 16))")
      }
    }
    let table = try load(NativeLayout.Offset.tableSize)
    guard table <= NativeLayout.tableSize else {
      throw NativeError(.badContract, "table_size 0x\(String(table, radix: 16)) exceeds the table page (0x1000)")
    }
  }

  /// The memfd size the host wrote.
  public var size: Int { get throws(NativeError) { Int(try load(NativeLayout.Offset.size)) } }
  /// The resource table's length.
  public var tableSize: Int { get throws(NativeError) { Int(try load(NativeLayout.Offset.tableSize)) } }
  /// How receivers wait.
  public var mode: DoorbellMode {
    get throws(NativeError) {
      DoorbellMode(wireMode: try load(NativeLayout.Offset.mode), spinNanoseconds: try load(NativeLayout.Offset.spinNanoseconds))
    }
  }
  /// The watchdog period in milliseconds, 0 for none.
  public var watchdogMilliseconds: UInt32 { get throws(NativeError) { try load(NativeLayout.Offset.watchdogMilliseconds) } }

  /// The epoch of the host that started or attached to the firmware.
  public var hostEpoch: UInt32 { get throws(NativeError) { try load(NativeLayout.Offset.hostEpoch) } }
  /// Host: a new host attaches (the firmware must start its devices afresh).
  public func setHostEpoch(_ epoch: UInt32) throws(NativeError) { try store(epoch, NativeLayout.Offset.hostEpoch) }

  /// The host epoch the firmware has seen.
  public var remoteEpoch: UInt32 { get throws(NativeError) { try load(NativeLayout.Offset.remoteEpoch) } }
  /// The firmware's process id, as it wrote it.
  public var remotePID: UInt32 { get throws(NativeError) { try load(NativeLayout.Offset.remotePID) } }
  /// The firmware's heartbeat.
  public var heartbeat: UInt32 { get throws(NativeError) { try load(NativeLayout.Offset.heartbeat) } }

  /// Firmware: acknowledges `epoch` (start-up, or a new host) and wakes a host waiting for it.
  public func acknowledge(epoch: UInt32, pid: UInt32) throws(NativeError) {
    try store(pid, NativeLayout.Offset.remotePID)
    try store(epoch, NativeLayout.Offset.remoteEpoch)
    do { try region.futexWake(at: NativeLayout.Offset.remoteEpoch) } catch { throw NativeError(error, "remote_epoch") }
  }

  /// Host: sleeps while the firmware's acknowledged epoch is `seen`, at most `timeoutNanoseconds`.
  public func waitForAcknowledgement(changingFrom seen: UInt32, timeoutNanoseconds: Int64) throws(NativeError) {
    do {
      _ = try region.futexWait(at: NativeLayout.Offset.remoteEpoch, expected: seen, timeoutNanoseconds: timeoutNanoseconds)
    } catch { throw NativeError(error, "remote_epoch") }
  }

  /// Firmware: one more sign of life.
  public func pet() throws(NativeError) {
    do { _ = try region.fetchAdd(1, at: NativeLayout.Offset.heartbeat) } catch { throw NativeError(error, "heartbeat") }
  }

  /// Firmware: records an abort's code and caller before the process aborts.
  public func recordAbort(code: UInt32, pc: UInt64) throws(NativeError) {
    do {
      try region.store(code, at: NativeLayout.Offset.abortCode, order: .host)
      try region.store(pc, at: NativeLayout.Offset.abortPC, order: .host)
    } catch { throw NativeError(error, "abort record") }
    try store(1, NativeLayout.Offset.abortSet)
  }

  /// The abort the firmware recorded, if any.
  public var abortRecord: (code: UInt32, pc: UInt64)? {
    get throws(NativeError) {
      guard try load(NativeLayout.Offset.abortSet) == 1 else { return nil }
      do {
        return (
          try region.load(UInt32.self, at: NativeLayout.Offset.abortCode, order: .host),
          try region.load(UInt64.self, at: NativeLayout.Offset.abortPC, order: .host)
        )
      } catch { throw NativeError(error, "abort record") }
    }
  }
}
