import Firmware
import Foundation
import RPMsg
import RemoteprocNative
import SharedMemory
import Synchronization
import Virtio

/// The remote side of the process platform, for firmware written in Swift: it reads the
/// contract the host passed (the memfd in `RPROC_SHM_FD`), maps the shared memory, finds the
/// resource table the host wrote there, and runs the same `RPMsg` code as the host, in the
/// device role, woken by the doorbells. The C SDK's native build does the same in C.
///
/// ```swift
/// let remote = try NativeRemote()                // maps the memory, acknowledges the host
/// let bus = try remote.rpmsgBus()                // RPMsgBus(role: .remote) on the rpmsg vdev
/// try remote.run(bus) { bus in                   // serves kicks until the process ends
///   _ = try bus.createEndpoint(name: "rpmsg-client-sample", announce: true, receive: { message in … })
/// }
/// ```
///
/// The executable also needs a resource table in `.resource_table` (the host reads it from the
/// ELF file): declare it with `@section(".resource_table") @used` (see the `rpmsg-echo-remote`
/// example). Its trace entry points at ``NativeLayout/traceDeviceAddress``.
public final class NativeRemote: Sendable {
  /// The whole shared memory.
  public let memory: MemoryRegion
  public let control: NativeControlPage
  /// The remote's view of device addresses: the memfd from ``NativeLayout/deviceAddressBase``.
  public let addressMap: DeviceAddressMap
  /// The resource table as the host wrote it (allocations filled in).
  public let table: ResourceTable
  /// Its bytes in shared memory (the host writes vdev status and features there).
  public let tableRegion: MemoryRegion
  private let mapping: SharedMapping
  private let seenEpoch = Atomic<UInt32>(0)
  private let trace = Mutex<TraceWriter?>(nil)

  /// Maps the memory named by `environment` (the process's by default) and acknowledges the
  /// host, which waits for that before it sets up the devices.
  public init(environment: [String: String] = ProcessInfo.processInfo.environment) throws(NativeError) {
    guard let text = environment[NativeLayout.environmentVariable], let fd = Int32(text), fd >= 0 else {
      throw NativeError(
        .notStartedByHost,
        "\(NativeLayout.environmentVariable) is not set: a native firmware runs under a remoteproc host (ProcessPlatform)")
    }
    let size: Int
    do {
      let first = try SharedMapping.file(descriptor: fd, count: NativeLayout.pageSize, takingOwnership: false)
      size = try NativeControlPage(region: first.region).size
      guard size >= NativeLayout.minimumSize, size <= NativeLayout.maximumSize else {
        throw NativeError(.badContract, "the host wrote a memory size of \(size) bytes")
      }
      mapping = try SharedMapping.file(descriptor: fd, count: size, takingOwnership: false)
    } catch let error as NativeError {
      throw error
    } catch let error as SharedMemoryError {
      throw NativeError(error, "mapping descriptor \(fd)")
    } catch {
      throw NativeError(.badContract, "\(error)")
    }
    memory = mapping.region
    control = try NativeControlPage(region: memory)
    try control.validate(size: size)
    addressMap = DeviceAddressMap(deviceAddress: NativeLayout.deviceAddressBase, region: memory)
    let tableSize = try control.tableSize
    do {
      tableRegion = try memory.slice(at: NativeLayout.tableOffset, length: tableSize)
      table = try ResourceTable(bytes: try tableRegion.bytes(at: 0, count: tableSize), byteOrder: .host)
    } catch let error as SharedMemoryError {
      throw NativeError(error, "the resource table")
    } catch {
      throw NativeError(.badContract, "the resource table the host wrote: \(error)")
    }
    try acknowledgeHost()
  }

  /// Tells the current host this firmware has seen it. Returns true when the host changed
  /// since the last call (a new host attached: start the devices afresh).
  @discardableResult
  public func acknowledgeHost() throws(NativeError) -> Bool {
    let epoch = try control.hostEpoch
    guard seenEpoch.exchange(epoch, ordering: .acquiringAndReleasing) != epoch else { return false }
    try control.acknowledge(epoch: epoch, pid: UInt32(bitPattern: getpid()))
    return true
  }

  /// The vdev entry of the first virtio device with `id` in the table.
  public func device(id: UInt32) throws(NativeError) -> VirtioDeviceEntry {
    for entry in table.entries {
      guard case .virtioDevice(let device) = entry.kind, device.id == id else { continue }
      do {
        return try VirtioDeviceEntry(
          region: try tableRegion.slice(at: entry.payloadOffset, length: device.payloadByteCount), byteOrder: .host)
      } catch {
        throw NativeError(.badContract, "vdev entry \(entry.index): \(error)")
      }
    }
    throw NativeError(.badContract, "the resource table has no virtio device with id \(id)")
  }

  /// An rpmsg bus in the device role on the table's rpmsg vdev, kicking the host's doorbell.
  public func rpmsgBus(log: @escaping @Sendable (String) -> Void = { _ in }) throws(NativeError) -> RPMsgBus {
    _ = try device(id: RPMsgBus.virtioDeviceID)
    let doorbell = control.toHost
    return RPMsgBus(role: .remote, notify: { id in _ = try? doorbell.ring(notifyID: id) }, log: log)
  }

  /// Serves `bus` until `shouldStop` says so (by default: until the process ends): brings it
  /// up once the host has set the device up, and again when the host resets the device or a
  /// new host attaches; delivers messages; sleeps on the doorbell between kicks (as the
  /// host's ``DoorbellMode`` says), beating the heartbeat.
  ///
  /// A reset ends every endpoint of the bus (as on the host), so the firmware's endpoints are
  /// made by `endpoints`, which runs before each start: create them with `announce: true` and
  /// the host learns about them when the device comes up.
  public func run(
    _ bus: RPMsgBus, until shouldStop: @Sendable () -> Bool = { false },
    endpoints: (RPMsgBus) throws(RPMsgError) -> Void
  ) throws(NativeError) {
    let entry = try device(id: RPMsgBus.virtioDeviceID)
    let mode = try control.mode
    let watchdog = try control.watchdogMilliseconds
    let timeout: Int64 = watchdog == 0 ? -1 : Int64(watchdog) * 500_000
    var session = RPMsgRemoteSession()
    while !shouldStop() {
      let epoch = try control.hostEpoch
      if epoch != seenEpoch.load(ordering: .acquiring) {
        // A new host: drop everything of the old one before saying we saw it (the new host
        // starts its handshake then).
        session.reset(bus, reason: "a new host attached")
        try acknowledgeHost()
      }
      session.follow(bus, entry: entry, addressMap: addressMap, log: log, endpoints: endpoints)
      try control.pet()
      do { _ = try control.toRemote.wait(mode: mode, timeoutNanoseconds: timeout) } catch {
        throw NativeError(error, "waiting for a kick")
      }
    }
  }

  /// Appends a line to the trace buffer (the table's trace entry), which the host shows.
  public func log(_ text: String) {
    trace.withLock { writer in
      if writer == nil { writer = TraceWriter(remote: self) }
      writer?.append(text.hasSuffix("\n") ? text : text + "\n")
    }
  }
}

/// Text into the trace buffer, as the SDK's trace.c writes it: appended, NUL-terminated, and
/// started again from the beginning, cleared, when full.
struct TraceWriter {
  let region: MemoryRegion
  var position = 0

  init?(remote: NativeRemote) {
    for entry in remote.table.entries {
      guard case .trace(let trace) = entry.kind, trace.length >= 2,
        let location = remote.addressMap.locate(UInt64(trace.deviceAddress), length: Int(trace.length)),
        let region = try? remote.addressMap.region(at: location, length: Int(trace.length))
      else { continue }
      self.region = region
      try? region.fill(0, at: 0, count: region.count)
      return
    }
    return nil
  }

  mutating func append(_ text: String) {
    for byte in text.utf8 {
      if position + 1 >= region.count {
        try? region.fill(0, at: 0, count: region.count)
        position = 0
      }
      try? region.storeByte(byte, at: position)
      position += 1
    }
  }
}
