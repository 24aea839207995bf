import CSharedMemoryShims
import Glibc

/// Ordered accesses for ring indices and doorbell words shared with another processor.
///
/// The ring discipline is "write the slot, then publish the index with a release store";
/// the reader loads the index with acquire before it reads the slot.
extension MemoryRegion {
  /// Throws unless `[offset, offset + width)` is inside the region and naturally aligned.
  /// Inlined: it guards every ring-index access on the message hot path.
  @inlinable @inline(__always)
  func checkAligned(_ offset: Int, _ width: Int) throws(SharedMemoryError) {
    try checkRange(offset, width)
    guard (UInt(bitPattern: unsafe base) &+ UInt(bitPattern: offset)) & UInt(width &- 1) == 0 else {
      throw Self.misaligned(offset, width)
    }
  }

  @usableFromInline @inline(never)
  static func misaligned(_ offset: Int, _ width: Int) -> SharedMemoryError {
    SharedMemoryError(
      .misaligned, "\(width * 8)-bit atomic at 0x\(String(offset, radix: 16)) is not aligned")
  }

  /// Reads a byte published by the peer (acquire), such as a virtio device `status`.
  @inlinable @inline(__always)
  public func loadAcquire(_: UInt8.Type, at offset: Int) throws(SharedMemoryError) -> UInt8 {
    try checkRange(offset, 1)
    return unsafe rproc_load_acquire_u8(base + offset)
  }

  /// Publishes a byte to the peer (release): earlier stores become visible first. The virtio
  /// handshake writes the vrings' addresses, then publishes `status` with this.
  @inlinable @inline(__always)
  public func storeRelease(_ value: UInt8, at offset: Int) throws(SharedMemoryError) {
    try checkRange(offset, 1)
    unsafe rproc_store_release_u8(base + offset, value)
  }

  /// Reads a 16-bit index published by the peer (acquire). Wire: `__virtio16`.
  @inlinable @inline(__always)
  public func loadAcquire(
    _: UInt16.Type, at offset: Int, order: ByteOrder
  ) throws(SharedMemoryError) -> UInt16 {
    try checkAligned(offset, 2)
    return unsafe rproc_load_acquire_u16(base + offset).convertingByteOrder(order)
  }

  /// Publishes a 16-bit index to the peer (release): earlier stores become visible first.
  @inlinable @inline(__always)
  public func storeRelease(
    _ value: UInt16, at offset: Int, order: ByteOrder
  ) throws(SharedMemoryError) {
    try checkAligned(offset, 2)
    unsafe rproc_store_release_u16(base + offset, value.convertingByteOrder(order))
  }

  /// Reads a 32-bit word published by the peer (acquire).
  @inlinable @inline(__always)
  public func loadAcquire(
    _: UInt32.Type, at offset: Int, order: ByteOrder
  ) throws(SharedMemoryError) -> UInt32 {
    try checkAligned(offset, 4)
    return unsafe rproc_load_acquire_u32(base + offset).convertingByteOrder(order)
  }

  /// Publishes a 32-bit word to the peer (release).
  @inlinable @inline(__always)
  public func storeRelease(
    _ value: UInt32, at offset: Int, order: ByteOrder
  ) throws(SharedMemoryError) {
    try checkAligned(offset, 4)
    unsafe rproc_store_release_u32(base + offset, value.convertingByteOrder(order))
  }

  /// Atomically replaces a 32-bit host-order word and returns the old value.
  public func exchange(_ value: UInt32, at offset: Int) throws(SharedMemoryError) -> UInt32 {
    try checkAligned(offset, 4)
    return unsafe rproc_exchange_u32(base + offset, value)
  }

  /// Atomically adds to a 32-bit host-order word and returns the old value.
  public func fetchAdd(_ value: UInt32, at offset: Int) throws(SharedMemoryError) -> UInt32 {
    try checkAligned(offset, 4)
    return unsafe rproc_fetch_add_u32(base + offset, value)
  }

  /// Atomically ORs `bits` into a 32-bit host-order word and returns the old value, as a
  /// sequentially consistent read-modify-write (a doorbell: the ringer's OR must be ordered
  /// before its later check of whether the receiver sleeps).
  public func fetchOr(_ bits: UInt32, at offset: Int) throws(SharedMemoryError) -> UInt32 {
    try checkAligned(offset, 4)
    return unsafe rproc_fetch_or_u32(base + offset, bits)
  }

  /// Atomically replaces a 32-bit host-order word if it equals `expected`.
  public func compareExchange(
    expected: UInt32, desired: UInt32, at offset: Int
  ) throws(SharedMemoryError) -> Bool {
    try checkAligned(offset, 4)
    return unsafe rproc_compare_exchange_u32(base + offset, expected, desired)
  }

  /// A full memory fence: earlier stores are visible before later loads (Linux: `virtio_mb`,
  /// needed between publishing an index and reading the peer's event index).
  @inlinable @inline(__always)
  public static func fullFence() { rproc_fence_seq_cst() }

  /// A CPU hint for spin loops.
  @inlinable @inline(__always)
  public static func spinHint() { rproc_cpu_relax() }
}

/// The result of waiting on a futex word.
public enum FutexWaitResult: Hashable, Sendable {
  /// Woken by a peer, or by a spurious wake-up: re-check the condition.
  case woken
  /// The word no longer held the expected value when the wait began.
  case valueChanged
  /// The timeout elapsed.
  case timedOut
  /// A signal interrupted the wait.
  case interrupted
}

extension MemoryRegion {
  /// Sleeps while the host-order 32-bit word at `offset` equals `expected`.
  /// Linux: `futex(FUTEX_WAIT)` (shared, so it works across processes on a `MAP_SHARED`
  /// mapping). A negative `timeoutNanoseconds` waits forever.
  public func futexWait(
    at offset: Int, expected: UInt32, timeoutNanoseconds: Int64 = -1
  ) throws(SharedMemoryError) -> FutexWaitResult {
    try checkAligned(offset, 4)
    let result = unsafe rproc_futex_wait(base + offset, expected, timeoutNanoseconds)
    switch result {
    case 0: return .woken
    case -EAGAIN: return .valueChanged
    case -ETIMEDOUT: return .timedOut
    case -EINTR: return .interrupted
    default:
      throw SharedMemoryError(.systemCall, "futex wait at 0x\(String(offset, radix: 16))",
                              errno: -result)
    }
  }

  /// Wakes up to `count` waiters on the word at `offset`. Linux: `futex(FUTEX_WAKE)`.
  @discardableResult
  public func futexWake(at offset: Int, count wakers: Int32 = .max) throws(SharedMemoryError) -> Int {
    try checkAligned(offset, 4)
    let result = unsafe rproc_futex_wake(base + offset, wakers)
    guard result >= 0 else {
      throw SharedMemoryError(.systemCall, "futex wake at 0x\(String(offset, radix: 16))",
                              errno: -result)
    }
    return Int(result)
  }
}
