import SharedMemory

/// One direction of the doorbells in the control page: a ringer ORs a bit per notify id into
/// `pending`; the receiver takes them by exchanging `pending` with 0 and sleeps on it as a
/// futex. Wire: `struct rproc_native_doorbell`.
///
/// A ringer enters the kernel (`FUTEX_WAKE`) only when `pending` was 0 and the receiver has
/// said it sleeps (`waiting`): kicks while the receiver works, or while an earlier kick is
/// still untaken, are one atomic OR. The receiver publishes `waiting`, issues a full fence and
/// re-reads `pending` before it sleeps; the ringer's OR is sequentially consistent and is
/// followed by its read of `waiting`, so one of the two always sees the other.
///
/// The peer is not trusted: it can only set bits (spurious kicks) or clear them (lost kicks
/// of its own direction); every access stays inside the control page.
public struct NativeDoorbell: Sendable {
  /// The control page.
  public let page: MemoryRegion
  private let pending: Int
  private let waiting: Int

  init(page: MemoryRegion, offset: Int) {
    self.page = page
    self.pending = offset + NativeLayout.Offset.doorbellPending
    self.waiting = offset + NativeLayout.Offset.doorbellWaiting
  }

  /// The bit for `notifyID`: its own below 31, bit 31 for the rest.
  public static func bit(for notifyID: UInt32) -> UInt32 {
    notifyID < NativeLayout.kickAnyBit ? 1 << notifyID : 1 << NativeLayout.kickAnyBit
  }

  /// Rings for vring `notifyID`. Returns true when it had to wake the receiver.
  @discardableResult
  public func ring(notifyID: UInt32) throws(SharedMemoryError) -> Bool {
    let old = try page.fetchOr(Self.bit(for: notifyID), at: pending)
    guard old == 0, try page.loadAcquire(UInt32.self, at: waiting, order: .host) != 0 else { return false }
    try page.futexWake(at: pending, count: 1)
    return true
  }

  /// Takes every pending kick (a bit per notify id, bit 31 for "any").
  public func take() throws(SharedMemoryError) -> UInt32 {
    try page.exchange(0, at: pending)
  }

  /// Whether kicks are pending, without taking them.
  public func isPending() throws(SharedMemoryError) -> Bool {
    try page.loadAcquire(UInt32.self, at: pending, order: .host) != 0
  }

  /// Waits for kicks and takes them: polls for the adaptive mode's spin time, then sleeps
  /// until a ringer wakes it or `timeoutNanoseconds` passes (negative: no timeout). Returns
  /// the kicks taken, 0 after a timeout or a spurious wake-up.
  public func wait(mode: DoorbellMode, timeoutNanoseconds: Int64 = -1) throws(SharedMemoryError) -> UInt32 {
    let now = try take()
    if now != 0 { return now }
    if case .adaptive(let spin) = mode, spin > 0 {
      let clock = ContinuousClock()
      let deadline = clock.now.advanced(by: .nanoseconds(spin))
      var polls = 0
      while true {
        if try isPending() { return try take() }
        MemoryRegion.spinHint()
        polls &+= 1
        if polls & 63 == 0, clock.now >= deadline { break }
      }
    }
    try page.storeRelease(UInt32(1), at: waiting, order: .host)
    MemoryRegion.fullFence()
    if try !isPending() {
      _ = try page.futexWait(at: pending, expected: 0, timeoutNanoseconds: timeoutNanoseconds)
    }
    try page.storeRelease(UInt32(0), at: waiting, order: .host)
    return try take()
  }
}
