import SharedMemory
import Virtio

/// One ring and a buffer area in one mapping, with a driver and a device attached, as a
/// host and a remote share them. Buffers live at device address `bufferBase`.
struct RingFixture {
  static let bufferBase: UInt64 = 0x8000_0000
  let mapping: SharedMapping
  let ringRegion: MemoryRegion
  let buffers: MemoryRegion
  let layout: VringLayout
  var driver: VirtqueueDriver
  var device: VirtqueueDevice

  init(count: Int = 8, alignment: Int = 64, order: ByteOrder = .little, eventIndex: Bool = false,
       bufferBytes: Int = 1 << 16) throws {
    layout = try VringLayout(count: count, alignment: alignment)
    let ringBytes = (layout.byteCount + 4095) & ~4095
    mapping = try SharedMapping.anonymous(count: ringBytes + bufferBytes)
    ringRegion = try mapping.region.slice(at: 0, length: layout.byteCount)
    buffers = try mapping.region.slice(at: ringBytes, length: bufferBytes)
    driver = try VirtqueueDriver(layout: layout, ring: ringRegion, byteOrder: order,
                                 usesEventIndex: eventIndex)
    device = try VirtqueueDevice(
      layout: layout, ring: ringRegion, byteOrder: order, usesEventIndex: eventIndex,
      addressMap: DeviceAddressMap(deviceAddress: Self.bufferBase, region: buffers))
  }

  func address(_ offset: Int) -> UInt64 { Self.bufferBase + UInt64(offset) }

  func u16(_ offset: Int) throws -> UInt16 {
    try ringRegion.load(UInt16.self, at: offset, order: driver.byteOrder)
  }
  func u32(_ offset: Int) throws -> UInt32 {
    try ringRegion.load(UInt32.self, at: offset, order: driver.byteOrder)
  }
  func u64(_ offset: Int) throws -> UInt64 {
    try ringRegion.load(UInt64.self, at: offset, order: driver.byteOrder)
  }
  /// Writes a ring field as a hostile peer would.
  func poke16(_ value: UInt16, _ offset: Int) throws {
    try ringRegion.store(value, at: offset, order: driver.byteOrder)
  }
  func poke32(_ value: UInt32, _ offset: Int) throws {
    try ringRegion.store(value, at: offset, order: driver.byteOrder)
  }
  func poke64(_ value: UInt64, _ offset: Int) throws {
    try ringRegion.store(value, at: offset, order: driver.byteOrder)
  }
}
