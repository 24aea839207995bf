import SharedMemory

/// The driver (host) side of a legacy split vring, written from the spec for the tests: an
/// independent check of the firmware SDK's device side.
struct DriverRing {
  let memory: MemoryRegion
  let deviceAddress: UInt64
  let count: Int
  let order: ByteOrder
  let usedOffset: Int
  private(set) var availIndex: UInt16 = 0
  private(set) var lastUsed: UInt16 = 0

  /// Linux: `vring_size(num, align)`.
  static func byteCount(count: Int, alignment: Int) -> Int {
    usedOffset(count: count, alignment: alignment) + 6 + 8 * count
  }

  static func usedOffset(count: Int, alignment: Int) -> Int {
    (16 * count + 2 * (3 + count) + alignment - 1) & ~(alignment - 1)
  }

  init(memory: MemoryRegion, deviceAddress: UInt64, count: Int, alignment: Int, order: ByteOrder) throws {
    self.memory = memory
    self.deviceAddress = deviceAddress
    self.count = count
    self.order = order
    self.usedOffset = Self.usedOffset(count: count, alignment: alignment)
    try memory.fill(0, at: 0, count: Self.byteCount(count: count, alignment: alignment))
  }

  /// Makes descriptor `index` (one buffer) available: the slot first, then the index.
  mutating func post(index: Int, buffer: UInt64, length: Int, writable: Bool) throws {
    let descriptor = 16 * index
    try memory.store(buffer, at: descriptor, order: order)
    try memory.store(UInt32(length), at: descriptor + 8, order: order)
    try memory.store(UInt16(writable ? 2 : 0), at: descriptor + 12, order: order)
    try memory.store(UInt16(0), at: descriptor + 14, order: order)
    let slot = 16 * count + 4 + 2 * (Int(availIndex) & (count - 1))
    try memory.store(UInt16(index), at: slot, order: order)
    availIndex &+= 1
    try memory.storeRelease(availIndex, at: 16 * count + 2, order: order)
  }

  /// The next used element: (descriptor index, bytes written), or nil.
  mutating func takeUsed() throws -> (index: Int, length: Int)? {
    let published = try memory.loadAcquire(UInt16.self, at: usedOffset + 2, order: order)
    guard published != lastUsed else { return nil }
    let element = usedOffset + 4 + 8 * (Int(lastUsed) & (count - 1))
    let index = try memory.load(UInt32.self, at: element, order: order)
    let length = try memory.load(UInt32.self, at: element + 4, order: order)
    lastUsed &+= 1
    // VIRTIO_RING_F_EVENT_IDX: ask to be notified for anything after what was taken.
    try memory.store(lastUsed, at: 16 * count + 4 + 2 * count, order: order)
    precondition(Int(index) < count, "firmware returned descriptor \(index) of \(count)")
    return (Int(index), Int(length))
  }

  /// Publishes an avail index that runs `jump` entries past what was posted.
  mutating func corruptAvailIndex(by jump: UInt16) throws {
    availIndex &+= jump
    try memory.storeRelease(availIndex, at: 16 * count + 2, order: order)
  }

  /// Sets avail.flags (1: VRING_AVAIL_F_NO_INTERRUPT).
  func setAvailFlags(_ flags: UInt16) throws {
    try memory.store(flags, at: 16 * count, order: order)
  }
}
