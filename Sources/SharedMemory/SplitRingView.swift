import CSharedMemoryShims

/// The memory of one legacy split virtqueue, with its geometry checked once so that every
/// field access afterwards is a plain load or store. Wire: `struct vring` as Linux
/// `vring_init(vr, num, p, align)` lays it out: descriptors (`16·num` bytes) at 0, the
/// available ring (`flags, idx, ring[num], used_event`) after them, the used ring (`flags,
/// idx, {id, len}[num], avail_event`) at `usedOffset`.
///
/// Why it is safe without a check per access: every accessor takes a free-running 16-bit
/// index and masks it with `count - 1` itself, and the initializer proved that the region
/// holds every field for every masked index:
///
/// - descriptor `i & mask`: `[16·i, 16·i + 16)` ⊂ `[0, 16·count)`, before the available ring;
/// - `avail.flags`, `avail.idx`: `[16·count, 16·count + 4)`;
///   `avail.ring[i & mask]`: `[16·count + 4 + 2·i, + 2)`; `used_event`: `16·count + 4 + 2·count`,
///   which ends at `16·count + 6 + 2·count` ≤ `usedOffset` (checked);
/// - `used.flags`, `used.idx`: `[usedOffset, usedOffset + 4)`; `used.ring[i & mask]`:
///   `[usedOffset + 4 + 8·i, + 8)`; `avail_event`: ends at `usedOffset + 6 + 8·count`
///   ≤ the region's size (checked).
///
/// Alignment: the base is 4-byte aligned and `usedOffset` a multiple of 4 (both checked),
/// so the 16-bit indices are 2-byte aligned and the used elements 4-byte aligned for the
/// acquire/release accesses; descriptors are read and written without an alignment
/// requirement.
///
/// The peer may write any value into its fields at any time: the view only guarantees that
/// the *location* is inside the region; validating the *values* is the caller's job.
///
/// Multi-byte fields are converted from and to ``byteOrder``.
@safe
public struct SplitRingView: @unchecked Sendable {
  // Invariants (established in init, never changed): `base..<base+byteCount` is inside a
  // mapping kept alive by `owner`; `count` is a power of two in 1...32768 and
  // `mask == count - 1`; `usedOffset >= 16·count + 6 + 2·count`, `usedOffset % 4 == 0`,
  // `usedOffset + 6 + 8·count <= byteCount`; `base` is 4-byte aligned.
  @usableFromInline let base: UnsafeMutableRawPointer
  @usableFromInline let owner: AnyObject?
  /// `16·count`: the offset of `avail.flags`.
  @usableFromInline let availOffset: Int
  /// The offset of `used.flags`.
  public let usedOffset: Int
  /// The number of descriptors. Wire: `num`.
  public let count: Int
  /// `count - 1`.
  public let mask: UInt16
  /// The byte order of every field.
  public let byteOrder: ByteOrder

  /// The largest ring 16-bit indices allow (virtio: "Queue Size ≤ 32768").
  public static var maximumCount: Int { 32768 }

  /// Bytes a ring of `count` entries with the used ring at `usedOffset` occupies.
  /// Linux: `vring_size(num, align)` when `usedOffset` is `vring_init`'s.
  public static func byteCount(count: Int, usedOffset: Int) -> Int { usedOffset + 6 + 8 * count }

  /// Checks the geometry against `region` and makes the view.
  ///
  /// - Parameters:
  ///   - count: `num`, a power of two in 1...32768.
  ///   - usedOffset: the offset of `used.flags` from the ring's start: at least
  ///     `16·count + 6 + 2·count` (the end of `used_event`) and a multiple of 4.
  public init(
    region: MemoryRegion, count: Int, usedOffset: Int, byteOrder: ByteOrder
  ) throws(SharedMemoryError) {
    guard count >= 1, count <= Self.maximumCount, count & (count &- 1) == 0 else {
      throw SharedMemoryError(.invalidArgument, "ring size \(count) is not a power of two in 1...32768")
    }
    let availEnd = 18 * count + 6
    guard usedOffset >= availEnd, usedOffset % 4 == 0, usedOffset <= Int(Int32.max) else {
      throw SharedMemoryError(
        .invalidArgument,
        "used ring at 0x\(String(usedOffset, radix: 16)) overlaps the available ring "
          + "(ends at 0x\(String(availEnd, radix: 16))) or is not 4-byte aligned")
    }
    try region.checkRange(0, Self.byteCount(count: count, usedOffset: usedOffset))
    guard region.hostAddress % 4 == 0 else {
      throw SharedMemoryError(.misaligned, "ring memory is not 4-byte aligned")
    }
    unsafe base = region.base
    owner = region.owner
    availOffset = 16 * count
    self.usedOffset = usedOffset
    self.count = count
    mask = UInt16(truncatingIfNeeded: count &- 1)
    self.byteOrder = byteOrder
  }

  // MARK: Private helpers (offsets already proven in range by the invariants above)

  @inlinable @inline(__always)
  func load<T: FixedWidthInteger>(_: T.Type, _ offset: Int) -> T {
    unsafe base.loadUnaligned(fromByteOffset: offset, as: T.self).convertingByteOrder(byteOrder)
  }

  @inlinable @inline(__always)
  func store<T: FixedWidthInteger>(_ value: T, _ offset: Int) {
    unsafe base.storeBytes(of: value.convertingByteOrder(byteOrder), toByteOffset: offset, as: T.self)
  }

  @inlinable @inline(__always)
  func descriptorOffset(_ index: UInt16) -> Int { Int(index & mask) &<< 4 }

  @inlinable @inline(__always)
  func availRingOffset(_ slot: UInt16) -> Int { availOffset &+ 4 &+ Int(slot & mask) &<< 1 }

  @inlinable @inline(__always)
  func usedRingOffset(_ slot: UInt16) -> Int { usedOffset &+ 4 &+ Int(slot & mask) &<< 3 }

  // MARK: Descriptor table (driver writes, device reads)

  /// Descriptor `index & mask`. Wire: `struct vring_desc` (`addr u64, len u32, flags u16,
  /// next u16`).
  @inlinable @inline(__always)
  public func descriptor(
    _ index: UInt16
  ) -> (address: UInt64, length: UInt32, flags: UInt16, next: UInt16) {
    let d = descriptorOffset(index)
    return (load(UInt64.self, d), load(UInt32.self, d &+ 8), load(UInt16.self, d &+ 12),
            load(UInt16.self, d &+ 14))
  }

  /// Writes descriptor `index & mask`.
  @inlinable @inline(__always)
  public func setDescriptor(
    _ index: UInt16, address: UInt64, length: UInt32, flags: UInt16, next: UInt16
  ) {
    let d = descriptorOffset(index)
    store(address, d)
    store(length, d &+ 8)
    store(flags, d &+ 12)
    store(next, d &+ 14)
  }

  // MARK: Available ring (driver writes, device reads)

  /// Wire: `avail.flags`.
  @inlinable @inline(__always)
  public var availFlags: UInt16 { load(UInt16.self, availOffset) }

  /// Writes `avail.flags`.
  @inlinable @inline(__always)
  public func setAvailFlags(_ value: UInt16) { store(value, availOffset) }

  /// Reads `avail.idx` with acquire: the slots and descriptors it publishes are visible.
  @inlinable @inline(__always)
  public func loadAvailIndex() -> UInt16 {
    unsafe rproc_load_acquire_u16(base + (availOffset &+ 2)).convertingByteOrder(byteOrder)
  }

  /// Publishes `avail.idx` with release: earlier stores (slot, descriptors) are visible first.
  @inlinable @inline(__always)
  public func storeAvailIndex(_ value: UInt16) {
    unsafe rproc_store_release_u16(base + (availOffset &+ 2), value.convertingByteOrder(byteOrder))
  }

  /// Wire: `avail.ring[slot & mask]`.
  @inlinable @inline(__always)
  public func availRing(_ slot: UInt16) -> UInt16 { load(UInt16.self, availRingOffset(slot)) }

  /// Writes `avail.ring[slot & mask]`.
  @inlinable @inline(__always)
  public func setAvailRing(_ slot: UInt16, _ head: UInt16) { store(head, availRingOffset(slot)) }

  /// Wire: `used_event` (`avail.ring[num]`).
  @inlinable @inline(__always)
  public var usedEvent: UInt16 { load(UInt16.self, availOffset &+ 4 &+ count &<< 1) }

  /// Writes `used_event`.
  @inlinable @inline(__always)
  public func setUsedEvent(_ value: UInt16) { store(value, availOffset &+ 4 &+ count &<< 1) }

  // MARK: Used ring (device writes, driver reads)

  /// Wire: `used.flags`.
  @inlinable @inline(__always)
  public var usedFlags: UInt16 { load(UInt16.self, usedOffset) }

  /// Writes `used.flags`.
  @inlinable @inline(__always)
  public func setUsedFlags(_ value: UInt16) { store(value, usedOffset) }

  /// Reads `used.idx` with acquire: the elements it publishes are visible.
  @inlinable @inline(__always)
  public func loadUsedIndex() -> UInt16 {
    unsafe rproc_load_acquire_u16(base + (usedOffset &+ 2)).convertingByteOrder(byteOrder)
  }

  /// Publishes `used.idx` with release: the elements written before are visible first.
  @inlinable @inline(__always)
  public func storeUsedIndex(_ value: UInt16) {
    unsafe rproc_store_release_u16(base + (usedOffset &+ 2), value.convertingByteOrder(byteOrder))
  }

  /// Wire: `used.ring[slot & mask]` (`struct vring_used_elem`: `id u32, len u32`).
  @inlinable @inline(__always)
  public func usedElement(_ slot: UInt16) -> (id: UInt32, length: UInt32) {
    let u = usedRingOffset(slot)
    return (load(UInt32.self, u), load(UInt32.self, u &+ 4))
  }

  /// Writes `used.ring[slot & mask]`.
  @inlinable @inline(__always)
  public func setUsedElement(_ slot: UInt16, id: UInt32, length: UInt32) {
    let u = usedRingOffset(slot)
    store(id, u)
    store(length, u &+ 4)
  }

  /// Wire: `avail_event` (`used.ring[num]`).
  @inlinable @inline(__always)
  public var availEvent: UInt16 { load(UInt16.self, usedOffset &+ 4 &+ count &<< 3) }

  /// Writes `avail_event`.
  @inlinable @inline(__always)
  public func setAvailEvent(_ value: UInt16) { store(value, usedOffset &+ 4 &+ count &<< 3) }
}
