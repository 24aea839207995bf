import Firmware
import Foundation
import RemoteprocEmulated
import SharedMemory
import Synchronization
import Testing

/// What the guest told the host; shared with the core's owner thread. It holds no reference
/// to the core, so cores are released (and their slots freed) when a test ends.
final class HostEvents: Sendable {
  let kicks = Mutex<[Int: Int]>([:])
  let crashes = Mutex<[CrashReport]>([])
  let handlers = Mutex<[Int: @Sendable () -> Void]>([:])

  var events: EmulatedCore.Events {
    EmulatedCore.Events(
      guestKicked: { id in
        self.kicks.withLock { $0[id, default: 0] += 1 }
        let handler = self.handlers.withLock { $0[id] }
        handler?()
      },
      crashed: { report in self.crashes.withLock { $0.append(report) } })
  }

  var firstCrash: CrashReport? { crashes.withLock { $0.first } }
}

/// Plays the Linux host by hand for one emulated core: loads the ELF segments, finds the
/// resource table, allocates vrings and buffers in the machine's carveout window, does the
/// virtio handshake and talks.
final class HandHost: Sendable {
  let machine: EmulatedMachine
  let core: EmulatedCore
  let image: ELFImage
  let table: LoadedResourceTable
  let events = HostEvents()
  private let nextFree: Mutex<UInt64>

  init(
    _ example: String, on machine: EmulatedMachine, options: EmulatedCore.Options = .init(), name: String? = nil
  ) throws {
    self.machine = machine
    image = try FirmwareImages.image(example, for: machine)
    #expect(image.machine.rawValue == machine.elfMachine)
    #expect(image.byteOrder == machine.byteOrder)
    let core = try EmulatedCore(machine: machine, options: options, name: name)
    self.core = core
    try image.loadSegments { core.memory(forDeviceAddress: $0, length: $1) }
    let location = try #require(try image.resourceTable())
    let address = try #require(location.loadedDeviceAddress)
    let region = try #require(core.memory(forDeviceAddress: address, length: location.table.byteCount))
    table = try LoadedResourceTable(table: location.table, region: region)
    nextFree = Mutex(try #require(core.carveoutWindows.first).deviceAddress)
  }

  func start() throws {
    try core.start(entry: image.entryPoint, events: events.events)
  }

  /// Carves `size` bytes out of the carveout window (a bump allocator; tests are short).
  func allocate(_ size: Int, alignment: UInt64 = 4096) throws -> (deviceAddress: UInt64, memory: MemoryRegion) {
    let address = nextFree.withLock { next in
      let aligned = (next + alignment - 1) & ~(alignment - 1)
      next = aligned + UInt64(size)
      return aligned
    }
    return (address, try #require(core.memory(forDeviceAddress: address, length: size)))
  }

  /// The trace buffer as text (up to its first NUL). Linux: debugfs `trace0`.
  func trace() throws -> String {
    for entry in table.table.entries {
      guard case .trace(let trace) = entry.kind else { continue }
      let memory = try #require(core.memory(forDeviceAddress: UInt64(trace.deviceAddress), length: Int(trace.length)))
      let bytes = try memory.bytes(at: 0, count: memory.count)
      return String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
    }
    Issue.record("no trace entry")
    return ""
  }

  /// The vdev entries in table order.
  var virtioDevices: [(entry: ResourceEntry, device: VirtioDeviceResource)] {
    table.table.entries.compactMap { entry in
      if case .virtioDevice(let device) = entry.kind { return (entry, device) }
      return nil
    }
  }

  func waitForTrace(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
    try eventually("trace to contain \"\(text)\"", sourceLocation: sourceLocation) {
      try trace().contains(text)
    }
  }

  func waitForCrash(sourceLocation: SourceLocation = #_sourceLocation) throws -> CrashReport {
    eventually("a crash report", sourceLocation: sourceLocation) { events.firstCrash != nil }
    return try #require(events.firstCrash, sourceLocation: sourceLocation)
  }
}

/// One virtio device driven from the host: the handshake, rx buffers posted on vring 0
/// (remote→host) and tx buffers sent on vring 1 (host→remote), as Linux's virtio_console
/// (rproc_serial) and virtio_rpmsg_bus do.
final class HostVirtio: Sendable {
  struct Rx { var ring: DriverRing; var buffers: [(UInt64, MemoryRegion)] }
  struct Tx { var ring: DriverRing; var buffers: [(UInt64, MemoryRegion)]; var free: [Int] }

  let host: HandHost
  let bufferSize: Int
  let rxNotifyID: Int
  let txNotifyID: Int
  private let rx: Mutex<Rx>
  private let tx: Mutex<Tx>
  /// Payloads of the rx buffers the firmware returned, in order.
  let received = Mutex<[[UInt8]]>([])

  /// - Parameters:
  ///   - ordinal: the vdev's position among the table's vdevs (notify ids 2·ordinal, +1).
  ///   - acceptedFeatures: the feature bits the host accepts of those the firmware offers.
  init(_ host: HandHost, ordinal: Int, bufferSize: Int, acceptedFeatures: UInt32) throws {
    self.host = host
    self.bufferSize = bufferSize
    let (entry, device) = host.virtioDevices[ordinal]
    let table = host.table
    let order = host.machine.byteOrder
    rxNotifyID = 2 * ordinal
    txNotifyID = 2 * ordinal + 1
    try table.setVirtioNotifyID(entry, UInt32(2 * ordinal))
    try table.setVirtioStatus(entry, 1)  // ACKNOWLEDGE
    try table.setVirtioStatus(entry, 3)  // DRIVER
    try table.setGuestFeatures(entry, device.deviceFeatures & acceptedFeatures)
    var rings: [DriverRing] = []
    for (index, vring) in device.vrings.enumerated() {
      let size = DriverRing.byteCount(count: Int(vring.count), alignment: Int(vring.alignment))
      let (address, memory) = try host.allocate(size)
      rings.append(try DriverRing(memory: memory, deviceAddress: address, count: Int(vring.count),
                                  alignment: Int(vring.alignment), order: order))
      try table.setVring(entry, ring: index, deviceAddress: UInt32(address),
                         physicalAddress: UInt32(address), notifyID: UInt32(2 * ordinal + index))
    }
    func buffers(_ n: Int) throws -> [(UInt64, MemoryRegion)] {
      try (0..<n).map { _ in try host.allocate(bufferSize, alignment: 16) }
    }
    var rxState = Rx(ring: rings[0], buffers: try buffers(rings[0].count))
    for (index, buffer) in rxState.buffers.enumerated() {
      try rxState.ring.post(index: index, buffer: buffer.0, length: bufferSize, writable: true)
    }
    rx = Mutex(rxState)
    tx = Mutex(Tx(ring: rings[1], buffers: try buffers(rings[1].count), free: Array(0..<rings[1].count)))
    try table.setVirtioStatus(entry, 7)  // DRIVER_OK
    host.events.handlers.withLock { [rxNotifyID] in
      $0[rxNotifyID] = { [weak self] in self?.drainRx() }
    }
    host.core.kick(notifyId: rxNotifyID)
  }

  /// The rx interrupt (owner thread): takes every returned buffer, reposts it, kicks once.
  func drainRx() {
    let reposted = rx.withLock { rx -> Bool in
      var any = false
      while let (index, length) = try! rx.ring.takeUsed() {
        let memory = rx.buffers[index].1
        precondition(length <= bufferSize, "firmware wrote \(length) bytes into \(bufferSize)")
        let bytes = try! memory.bytes(at: 0, count: length)
        received.withLock { $0.append(bytes) }
        try! rx.ring.post(index: index, buffer: rx.buffers[index].0, length: bufferSize, writable: true)
        any = true
      }
      return any
    }
    if reposted { host.core.kick(notifyId: rxNotifyID) }
  }

  /// Sends one buffer (waiting for a free one).
  func send(_ bytes: [UInt8]) throws {
    precondition(bytes.count <= bufferSize)
    var index: Int?
    try eventually("a free tx buffer") {
      index = try tx.withLock { tx throws -> Int? in
        while let (used, _) = try tx.ring.takeUsed() { tx.free.append(used) }
        return tx.free.popLast()
      }
      return index != nil
    }
    let slot = try #require(index)
    try tx.withLock { tx in
      try tx.buffers[slot].1.write(bytes, at: 0)
      try tx.ring.post(index: slot, buffer: tx.buffers[slot].0, length: bytes.count, writable: false)
    }
    host.core.kick(notifyId: txNotifyID)
  }

  /// Posts a tx descriptor with an arbitrary address, as a buggy or hostile host would.
  func sendRaw(address: UInt64, length: Int) throws {
    try tx.withLock { tx in
      guard let slot = tx.free.popLast() else { throw HostFailure(what: "no free tx buffer") }
      try tx.ring.post(index: slot, buffer: address, length: length, writable: false)
    }
    host.core.kick(notifyId: txNotifyID)
  }

  /// Publishes an avail index `by` entries ahead of what was posted.
  func corruptAvailIndex(by jump: UInt16) throws {
    try tx.withLock { tx in try tx.ring.corruptAvailIndex(by: jump) }
    host.core.kick(notifyId: txNotifyID)
  }

  /// Everything received so far, concatenated.
  var receivedBytes: [UInt8] { received.withLock { $0.flatMap { $0 } } }
}

struct HostFailure: Error {
  var what: String
}
