/// Fixed-layout records (a protocol header, a ring element): one range check for the
/// whole record, then plain loads and stores of its fields.
extension MemoryRegion {
  /// Checks that `[offset, offset + count)` is inside the region and calls `body` with a
  /// view of those bytes whose fields are read and written in `order`.
  ///
  /// The view is noncopyable and only borrowed by `body`, so it cannot outlive the call.
  @inlinable @inline(__always)
  public func withRecord<Result>(
    at offset: Int, count: Int, order: ByteOrder,
    _ body: (borrowing RecordView) -> Result
  ) throws(SharedMemoryError) -> Result {
    try checkRange(offset, count)
    let view = unsafe RecordView(base: base + offset, count: count, order: order)
    return body(view)
  }
}

/// A checked window of a region for reading and writing the fields of one record.
///
/// Field offsets are the caller's constants, not input: a field outside the record is a
/// programming error and traps. With constant offsets the check disappears at compile
/// time, which is the point: one check for the record instead of one per field.
@safe
public struct RecordView: ~Copyable {
  // Invariants: `base..<base+count` lies inside a region checked by `withRecord`, whose
  // mapping stays alive while the view exists: the view is created only there and only
  // lent (borrowed) to the body, so it cannot escape the call.
  @usableFromInline let base: UnsafeMutableRawPointer
  /// The record's size in bytes.
  public let count: Int
  /// The byte order of its multi-byte fields.
  public let order: ByteOrder

  @usableFromInline
  init(base: UnsafeMutableRawPointer, count: Int, order: ByteOrder) {
    unsafe self.base = base
    self.count = count
    self.order = order
  }

  /// Reads the field of type `T` at `offset` in the record.
  @inlinable @inline(__always)
  public func load<T: FixedWidthInteger>(_: T.Type, at offset: Int) -> T {
    precondition(offset >= 0 && offset <= count &- MemoryLayout<T>.size, "field outside the record")
    return unsafe base.loadUnaligned(fromByteOffset: offset, as: T.self).convertingByteOrder(order)
  }

  /// Writes the field of type `T` at `offset` in the record.
  @inlinable @inline(__always)
  public func store<T: FixedWidthInteger>(_ value: T, at offset: Int) {
    precondition(offset >= 0 && offset <= count &- MemoryLayout<T>.size, "field outside the record")
    unsafe base.storeBytes(of: value.convertingByteOrder(order), toByteOffset: offset, as: T.self)
  }
}
