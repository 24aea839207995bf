import CSharedMemoryShims

/// A bounds-checked window onto memory shared with a remote processor.
///
/// This is the one audited type through which the project reads and writes shared memory.
/// Every access is checked against ``count`` and throws rather than traps, because offsets
/// usually come from the (untrusted) remote side. Multi-byte integers are converted from or
/// to an explicit ``ByteOrder``.
///
/// A region keeps the mapping it views alive. Copying a region is cheap and makes another
/// view of the same bytes: it is a reference, like a pointer with a length.
@safe
public struct MemoryRegion: @unchecked Sendable {
  // Invariants: `base..<base+count` stays mapped while `owner` is alive, and `owner` is
  // alive as long as this value is. `base` is aligned as the mapping's alignment (a page
  // for mappings) plus the offset it was sliced at. The memory is shared with another
  // processor, so Sendable is about the view, not the bytes: the ring protocols above
  // order concurrent accesses with the acquire/release operations below.
  @usableFromInline let base: UnsafeMutableRawPointer
  @usableFromInline let owner: AnyObject?
  /// The number of bytes in the region.
  public let count: Int

  @usableFromInline
  init(base: UnsafeMutableRawPointer, count: Int, owner: AnyObject?) {
    unsafe self.base = base
    self.count = count
    self.owner = owner
  }

  /// Throws unless `[offset, offset + width)` lies inside the region. Overflow-safe.
  @inlinable @inline(__always)
  public func checkRange(_ offset: Int, _ width: Int) throws(SharedMemoryError) {
    guard offset >= 0, width >= 0, width <= count, offset <= count &- width else {
      throw Self.outOfBounds(offset, width, count)
    }
  }

  /// Static, and given only integers: a region copied into a local for a few accesses need
  /// not be retained for the error path.
  @usableFromInline @inline(never)
  static func outOfBounds(_ offset: Int, _ width: Int, _ count: Int) -> SharedMemoryError {
    SharedMemoryError(
      .outOfBounds,
      "access [0x\(String(offset, radix: 16)), +0x\(String(width, radix: 16))) "
        + "outside region of 0x\(String(count, radix: 16)) bytes")
  }

  /// True when `[offset, offset + width)` lies inside the region.
  @inlinable
  public func contains(offset: Int, count width: Int) -> Bool {
    offset >= 0 && width >= 0 && width <= count && offset <= count &- width
  }

  /// A region viewing `length` bytes starting at `offset` of this one.
  public func slice(at offset: Int, length: Int) throws(SharedMemoryError) -> MemoryRegion {
    try checkRange(offset, length)
    return unsafe MemoryRegion(base: base + offset, count: length, owner: owner)
  }

  /// The address of the first byte in this process, as an integer.
  ///
  /// For handing to C libraries that map this memory themselves (Unicorn's
  /// `uc_mem_map_ptr`) or to compare two views. Keep a copy of the region alive for as long
  /// as the address is in use: the mapping is released when the last region goes.
  public var hostAddress: UInt { UInt(bitPattern: unsafe base) }

  /// True when both regions view the same bytes.
  public func isSameMemory(as other: MemoryRegion) -> Bool {
    hostAddress == other.hostAddress && count == other.count
  }

  // MARK: Plain integer access

  /// Reads an integer stored in `order` at `offset`. No alignment is required.
  @inlinable @inline(__always)
  public func load<T: FixedWidthInteger>(
    _: T.Type, at offset: Int, order: ByteOrder
  ) throws(SharedMemoryError) -> T {
    try checkRange(offset, MemoryLayout<T>.size)
    return unsafe base.loadUnaligned(fromByteOffset: offset, as: T.self).convertingByteOrder(order)
  }

  /// Writes an integer in `order` at `offset`, with no ordering guarantee.
  @inlinable @inline(__always)
  public func store<T: FixedWidthInteger>(
    _ value: T, at offset: Int, order: ByteOrder
  ) throws(SharedMemoryError) {
    try checkRange(offset, MemoryLayout<T>.size)
    unsafe base.storeBytes(
      of: value.convertingByteOrder(order), toByteOffset: offset, as: T.self)
  }

  /// Reads one byte.
  @inlinable @inline(__always)
  public func loadByte(at offset: Int) throws(SharedMemoryError) -> UInt8 {
    try checkRange(offset, 1)
    return unsafe base.load(fromByteOffset: offset, as: UInt8.self)
  }

  /// Writes one byte.
  @inlinable @inline(__always)
  public func storeByte(_ value: UInt8, at offset: Int) throws(SharedMemoryError) {
    try checkRange(offset, 1)
    unsafe base.storeBytes(of: value, toByteOffset: offset, as: UInt8.self)
  }
}
