import Firmware
import RemoteprocEmulated
import SharedMemory
import Synchronization

/// The emulated-core kick round trip: the host sends 32 bytes to the case-invert firmware's
/// serial port, kicks, and waits until the firmware's doorbell for the inverted reply has been
/// delivered to the host (its `guestKicked` handler ran). Host and guest run on different
/// threads, as they do under the remoteproc core. Behind `rproc bench emulated-kick`.
public struct EmulatedKickBenchmark: Sendable {
  public struct Result: Codable, Sendable {
    public var machine: String
    public var rtt_ns_p50: Double
    public var rtt_ns_p99: Double
    public var round_trips: Int
    /// Host kicks delivered as guest interrupts, per round trip.
    public var interrupts_per_round_trip: Double
    /// Times the core's owner thread slept (an idle that outlasted its poll).
    public var owner_sleeps: UInt64
    /// Guest basic blocks executed per round trip (firmware work, interrupt entry included).
    public var guest_blocks_per_round_trip: Double
  }

  public struct Failure: Error, CustomStringConvertible {
    public var description: String
  }

  public var machine: EmulatedMachine
  /// The case-invert image for `machine` (firmware/build/case-invert-<machine>.elf).
  public var firmware: ELFImage
  public var roundTrips: Int
  public var payload: [UInt8]
  public var options: EmulatedCore.Options

  public init(
    machine: EmulatedMachine, firmware: ELFImage, roundTrips: Int = 2000,
    payload: [UInt8] = Array("The Quick Brown Fox, 0123456789!".utf8),
    options: EmulatedCore.Options = .init(watchdogTimeout: nil)
  ) {
    self.machine = machine
    self.firmware = firmware
    self.roundTrips = roundTrips
    self.payload = payload
    self.options = options
  }

  final class Doorbells: Sendable {
    let count = Atomic<Int>(0)
  }

  public func run() throws -> Result {
    let core = try EmulatedCore(machine: machine, options: options)
    try firmware.loadSegments { core.memory(forDeviceAddress: $0, length: $1) }
    guard let location = try firmware.resourceTable(), let address = location.loadedDeviceAddress,
      let tableMemory = core.memory(forDeviceAddress: address, length: location.table.byteCount)
    else { throw Failure(description: "the firmware has no loadable resource table") }
    let table = try LoadedResourceTable(table: location.table, region: tableMemory)
    guard
      let (entry, device) = table.table.entries.lazy.compactMap({ entry -> (ResourceEntry, VirtioDeviceResource)? in
        if case .virtioDevice(let device) = entry.kind, device.id == 11 { return (entry, device) }
        return nil
      }).first, device.vrings.count == 2, let window = core.carveoutWindows.first
    else { throw Failure(description: "the firmware has no rproc serial vdev (virtio id 11)") }

    // The serial handshake (Linux: rproc_virtio + virtio_console), by hand.
    var next = window.deviceAddress
    func allocate(_ size: Int) throws -> (UInt64, MemoryRegion) {
      let address = (next + 4095) & ~4095
      next = address + UInt64(size)
      guard let memory = core.memory(forDeviceAddress: address, length: size) else {
        throw Failure(description: "carveout window exhausted")
      }
      return (address, memory)
    }
    let order = machine.byteOrder
    try table.setVirtioStatus(entry, 1)
    try table.setVirtioStatus(entry, 3)
    try table.setGuestFeatures(entry, device.deviceFeatures & (1 << 29))
    var queues: [HostQueue] = []
    for (index, vring) in device.vrings.enumerated() {
      let count = Int(vring.count)
      let (ringAddress, ringMemory) = try allocate(HostQueue.byteCount(count: count, alignment: Int(vring.alignment)))
      let (bufferAddress, bufferMemory) = try allocate(count * 4096)
      queues.append(try HostQueue(ring: ringMemory, count: count, alignment: Int(vring.alignment),
                                  buffers: bufferAddress, bufferMemory: bufferMemory, order: order))
      try table.setVring(entry, ring: index, deviceAddress: UInt32(ringAddress),
                         physicalAddress: UInt32(ringAddress), notifyID: UInt32(index))
    }
    var receive = queues[0]
    var transmit = queues[1]
    for slot in 0..<receive.count { try receive.post(slot, length: 4096, writable: true) }
    try table.setVirtioStatus(entry, 7)

    let doorbells = Doorbells()
    try core.start(
      entry: firmware.entryPoint,
      events: .init(guestKicked: { _ in doorbells.count.add(1, ordering: .releasing) }, crashed: { _ in }))
    defer { core.stop() }
    core.kick(notifyId: 0)

    var samples: [Double] = []
    samples.reserveCapacity(roundTrips)
    let clock = ContinuousClock()
    let expected = payload.map { byte -> UInt8 in
      let lower = byte | 0x20
      return lower >= 0x61 && lower <= 0x7A ? byte ^ 0x20 : byte
    }
    let before = core.statistics
    for round in 0..<(roundTrips + 100) {
      let slot = round % transmit.count
      try transmit.bufferMemory.write(payload, at: slot * 4096)
      while try transmit.takeUsed() != nil {}
      let seen = doorbells.count.load(ordering: .acquiring)
      let start = clock.now
      try transmit.post(slot, length: payload.count, writable: false)
      core.kick(notifyId: 1)
      var reply: (index: Int, length: Int)?
      while reply == nil {
        if doorbells.count.load(ordering: .acquiring) != seen { reply = try receive.takeUsed() }
        if reply == nil, case .crashed(let report) = core.state {
          throw Failure(description: "the firmware crashed: \(report)")
        }
      }
      let elapsed = clock.now - start
      guard let (index, length) = reply, length == payload.count,
        try receive.bufferMemory.bytesEqual(expected.span, at: index * 4096)
      else { throw Failure(description: "round trip \(round): wrong reply") }
      try receive.post(index, length: 4096, writable: true)
      core.kick(notifyId: 0)
      if round >= 100 {  // the first hundred warm the translation cache up
        let (seconds, attoseconds) = elapsed.components
        samples.append(Double(seconds) * 1e9 + Double(attoseconds) / 1e9)
      }
    }
    samples.sort()
    let statistics = core.statistics
    return Result(
      machine: machine.name, rtt_ns_p50: samples[samples.count / 2],
      rtt_ns_p99: samples[min(samples.count - 1, samples.count * 99 / 100)],
      round_trips: roundTrips,
      interrupts_per_round_trip: Double(statistics.interruptsDelivered - before.interruptsDelivered)
        / Double(roundTrips + 100),
      owner_sleeps: statistics.sleeps,
      guest_blocks_per_round_trip: Double(statistics.blocks - before.blocks) / Double(roundTrips + 100))
  }
}

/// The driver side of one split vring for the benchmark (buffers of 4 KiB, one per descriptor).
struct HostQueue {
  let ring: MemoryRegion
  let count: Int
  let usedOffset: Int
  let buffers: UInt64
  let bufferMemory: MemoryRegion
  let order: ByteOrder
  var availIndex: UInt16 = 0
  var lastUsed: UInt16 = 0

  /// Linux: `vring_size(num, align)`.
  static func byteCount(count: Int, alignment: Int) -> Int {
    ((16 * count + 2 * (3 + count) + alignment - 1) & ~(alignment - 1)) + 6 + 8 * count
  }

  init(ring: MemoryRegion, count: Int, alignment: Int, buffers: UInt64, bufferMemory: MemoryRegion,
       order: ByteOrder) throws {
    self.ring = ring
    self.count = count
    self.usedOffset = (16 * count + 2 * (3 + count) + alignment - 1) & ~(alignment - 1)
    self.buffers = buffers
    self.bufferMemory = bufferMemory
    self.order = order
    try ring.fill(0, at: 0, count: ring.count)
  }

  mutating func post(_ slot: Int, length: Int, writable: Bool) throws {
    try ring.store(buffers + UInt64(slot * 4096), at: 16 * slot, order: order)
    try ring.store(UInt32(length), at: 16 * slot + 8, order: order)
    try ring.store(UInt16(writable ? 2 : 0), at: 16 * slot + 12, order: order)
    try ring.store(UInt16(slot), at: 16 * count + 4 + 2 * (Int(availIndex) % count), order: order)
    availIndex &+= 1
    try ring.storeRelease(availIndex, at: 16 * count + 2, order: order)
  }

  mutating func takeUsed() throws -> (index: Int, length: Int)? {
    guard try ring.loadAcquire(UInt16.self, at: usedOffset + 2, order: order) != lastUsed else { return nil }
    let element = usedOffset + 4 + 8 * (Int(lastUsed) % count)
    let index = Int(try ring.load(UInt32.self, at: element, order: order))
    let length = Int(try ring.load(UInt32.self, at: element + 4, order: order))
    lastUsed &+= 1
    try ring.store(lastUsed, at: 16 * count + 4 + 2 * count, order: order)  // used_event
    guard index < count else { throw EmulatedKickBenchmark.Failure(description: "used id \(index) of \(count)") }
    return (index, length)
  }
}
