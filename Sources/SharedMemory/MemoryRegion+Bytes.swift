import Glibc

/// Byte-range copies in and out of a region, and scoped views for zero-copy access.
extension MemoryRegion {
  /// Copies `length` bytes starting at `offset` into a new array.
  public func bytes(at offset: Int, count length: Int) throws(SharedMemoryError) -> [UInt8] {
    try checkRange(offset, length)
    return unsafe [UInt8](unsafeUninitializedCapacity: length) { buffer, initialized in
      if length > 0 {
        unsafe buffer.baseAddress!.initialize(
          from: (base + offset).assumingMemoryBound(to: UInt8.self), count: length)
      }
      initialized = length
    }
  }

  /// Copies `source` into the region at `offset`.
  @inlinable @inline(__always)
  public func write(_ source: Span<UInt8>, at offset: Int) throws(SharedMemoryError) {
    let length = source.count
    try checkRange(offset, length)
    guard length > 0 else { return }
    // Only the pointer is captured, not `self`: no retain of the owner per copy.
    let destination = unsafe base + offset
    unsafe source.withUnsafeBytes { bytes in
      unsafe destination.copyMemory(from: bytes.baseAddress!, byteCount: length)
    }
  }

  /// Copies `source` into the region at `offset`.
  @inlinable
  public func write(_ source: [UInt8], at offset: Int) throws(SharedMemoryError) {
    try write(source.span, at: offset)
  }

  /// Sets `length` bytes starting at `offset` to `value`.
  @inlinable
  public func fill(_ value: UInt8, at offset: Int, count length: Int) throws(SharedMemoryError) {
    try checkRange(offset, length)
    guard length > 0 else { return }
    unsafe (base + offset).initializeMemory(as: UInt8.self, repeating: value, count: length)
  }

  /// Copies `length` bytes from `source` at `sourceOffset` to this region at `offset`.
  /// The ranges may overlap (memmove).
  @inlinable
  public func copy(
    from source: MemoryRegion, at sourceOffset: Int, count length: Int, to offset: Int
  ) throws(SharedMemoryError) {
    try source.checkRange(sourceOffset, length)
    try checkRange(offset, length)
    guard length > 0 else { return }
    unsafe memmove(base + offset, source.base + sourceOffset, length)
  }

  /// Calls `body` with a read-only view of `length` bytes at `offset`.
  ///
  /// The peer may change the bytes while `body` runs; read each byte once if that matters.
  @inlinable
  public func withBytes<R>(
    at offset: Int, count length: Int, _ body: (Span<UInt8>) -> R
  ) throws(SharedMemoryError) -> R {
    try checkRange(offset, length)
    let buffer = unsafe UnsafeBufferPointer(
      start: (base + offset).assumingMemoryBound(to: UInt8.self), count: length)
    return unsafe body(buffer.span)
  }

  /// Calls `body` with a mutable view of `length` bytes at `offset`.
  @inlinable
  public func withMutableBytes<R>(
    at offset: Int, count length: Int, _ body: (inout MutableSpan<UInt8>) -> R
  ) throws(SharedMemoryError) -> R {
    try checkRange(offset, length)
    let buffer = unsafe UnsafeMutableBufferPointer(
      start: (base + offset).assumingMemoryBound(to: UInt8.self), count: length)
    var span = unsafe buffer.mutableSpan
    return body(&span)
  }

  /// Copies `destination.count` bytes starting at `offset` into `destination`.
  @inlinable @inline(__always)
  public func read(at offset: Int, into destination: inout MutableSpan<UInt8>) throws(SharedMemoryError) {
    let length = destination.count
    try checkRange(offset, length)
    guard length > 0 else { return }
    let source = unsafe base + offset
    unsafe destination.withUnsafeMutableBytes { bytes in
      unsafe bytes.baseAddress!.copyMemory(from: source, byteCount: length)
    }
  }

  /// True when `length` bytes at `offset` equal `other`.
  public func bytesEqual(_ other: Span<UInt8>, at offset: Int) throws(SharedMemoryError) -> Bool {
    try checkRange(offset, other.count)
    guard other.count > 0 else { return true }
    return unsafe other.withUnsafeBytes { bytes in
      unsafe memcmp(base + offset, bytes.baseAddress!, other.count) == 0
    }
  }
}
