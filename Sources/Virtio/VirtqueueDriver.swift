import SharedMemory

/// The driver side of a split virtqueue: it offers buffers and takes them back.
/// Linux: `struct vring_virtqueue` (split) in drivers/virtio/virtio_ring.c.
///
/// For remoteproc the host is the driver of every vring. The driver owns the descriptor
/// table, the available ring and `used_event`; it only *reads* the used ring and
/// `avail_event`, and every value it reads there is checked: an id ≥ num, an id that is not a
/// chain in flight, a length larger than the chain, or a used index that runs past the
/// buffers in flight marks the queue broken. The driver keeps its own copy of every chain
/// (Linux: `desc_extra`), so it never trusts the descriptor table it wrote.
///
/// A value type; keep exactly one copy per ring (typically inside a `Mutex`).
public struct VirtqueueDriver: Sendable {
  /// Where the parts of the ring lie.
  public let layout: VringLayout
  /// The ring's memory (at least `layout.byteCount` bytes).
  public let ring: MemoryRegion
  /// The byte order of every ring field (the firmware's).
  public let byteOrder: ByteOrder
  /// True when `VIRTIO_RING_F_EVENT_IDX` was negotiated.
  public let usesEventIndex: Bool
  /// The same memory with the geometry proven once: the hot paths' accesses.
  @usableFromInline let view: SplitRingView

  /// The driver's private record of one descriptor. Linux: `desc_extra[i]` + `desc_state[i]`.
  @usableFromInline
  struct Slot: Sendable {
    /// Free-list link, or chain link while in flight. Linux: `desc_extra[i].next`.
    @usableFromInline var link: UInt16
    /// For a head: descriptors in its chain, 0 when not in flight.
    @usableFromInline var chainLength: UInt16
    /// For a head: the caller's token. Linux: `desc_state[i].data`.
    @usableFromInline var token: UInt32
    /// For a head: total bytes of the chain; a used `len` may not exceed it.
    @usableFromInline var bytes: UInt64

    @usableFromInline init(link: UInt16) {
      self.link = link
      chainLength = 0
      token = 0
      bytes = 0
    }
  }

  // Driver-private state. Nothing here is ever read back from shared memory.
  /// One record per descriptor (one array: one uniqueness check per update on the hot path).
  @usableFromInline var slots: [Slot]
  @usableFromInline var freeHead: UInt16
  /// Free descriptors. Linux: `vq.num_free`.
  public var freeCount: Int { _freeCount }
  @usableFromInline var _freeCount: Int
  /// Chains offered and not yet returned.
  public var inFlight: Int { _inFlight }
  @usableFromInline var _inFlight: Int
  /// Linux: `split.avail_idx_shadow`.
  @usableFromInline var availShadow: UInt16
  /// Linux: `last_used_idx`.
  @usableFromInline var lastUsed: UInt16
  /// The last `used.idx` read and checked (at most the chains in flight past `lastUsed`):
  /// `used.idx` is read again only when `lastUsed` reaches it.
  @usableFromInline var usedSeen: UInt16
  /// Chains published since the last ``kickPrepare()``. Linux: `num_added`.
  @usableFromInline var added: UInt16
  /// Chains offered with ``addUnpublished(address:length:isWritable:token:)`` whose
  /// `avail.idx` is not stored yet (the last ones before `availShadow`).
  @usableFromInline var unpublished: UInt16
  /// Linux: `split.avail_flags_shadow`.
  @usableFromInline var availFlagsShadow: UInt16
  /// The protocol violation that broke the queue, if one did.
  public internal(set) var brokenError: VirtioError? {
    didSet { broken = brokenError != nil }
  }
  /// `brokenError != nil`, as a plain flag for the hot paths (no copy of the error).
  @usableFromInline var broken = false

  /// Takes ownership of `ring`, zeroes it and starts with every descriptor free.
  ///
  /// - Parameter callbacksEnabled: false sets `VRING_AVAIL_F_NO_INTERRUPT` from the start
  ///   (Linux does so for a virtqueue without a callback).
  public init(
    layout: VringLayout, ring: MemoryRegion, byteOrder: ByteOrder, usesEventIndex: Bool,
    callbacksEnabled: Bool = true
  ) throws(VirtioError) {
    guard ring.count >= layout.byteCount else {
      throw VirtioError(.invalidConfiguration,
                        "vring of num \(layout.count) align \(layout.alignment) needs "
                          + "\(layout.byteCount) bytes, region has \(ring.count)")
    }
    guard ring.hostAddress % 4 == 0 else {
      throw VirtioError(.invalidConfiguration, "vring memory is not 4-byte aligned")
    }
    do {
      view = try SplitRingView(region: ring, count: layout.count, usedOffset: layout.usedOffset,
                               byteOrder: byteOrder)
    } catch {
      throw VirtioError(.invalidConfiguration, "vring: \(error.message)")
    }
    self.layout = layout
    self.ring = ring
    self.byteOrder = byteOrder
    self.usesEventIndex = usesEventIndex
    let n = layout.count
    slots = (0..<n).map { Slot(link: UInt16(truncatingIfNeeded: $0 + 1)) }
    freeHead = 0
    _freeCount = n
    _inFlight = 0
    availShadow = 0
    lastUsed = 0
    usedSeen = 0
    added = 0
    unpublished = 0
    availFlagsShadow = 0
    do {
      try ring.fill(0, at: 0, count: layout.byteCount)
    } catch {
      throw VirtioError(error, "zeroing the vring")
    }
    if !callbacksEnabled { disableCallbacks() }
  }

  /// True once the peer broke the protocol; every later call throws ``brokenError``.
  public var isBroken: Bool { brokenError != nil }

  /// Marks the queue broken (Linux: `BAD_RING`) and returns the error to throw.
  @usableFromInline
  mutating func broke(_ code: VirtioError.Code, _ message: String) -> VirtioError {
    let error = VirtioError(code, message)
    if brokenError == nil { brokenError = error }
    return brokenError!
  }

  @usableFromInline
  mutating func broke(_ error: SharedMemoryError) -> VirtioError {
    broke(.brokenQueue, "ring access failed: \(error.message)")
  }

  @usableFromInline
  static func full(_ need: Int, _ free: Int, _ n: Int) -> VirtioError {
    VirtioError(.noSpace, "chain of \(need) descriptor(s) does not fit: \(free) of \(n) free")
  }

  // MARK: Offering buffers

  /// Offers one buffer and publishes it. Linux: `virtqueue_add_inbuf`/`virtqueue_add_outbuf`
  /// with one scatterlist entry. Returns the head descriptor.
  @inlinable @inline(__always)
  public mutating func add(
    address: UInt64, length: UInt32, isWritable: Bool, token: UInt32 = 0
  ) throws(VirtioError) -> UInt16 {
    let head = try offer(address: address, length: length, isWritable: isWritable, token: token)
    publishAvailable()
    return head
  }

  /// Takes a free descriptor for one buffer and writes its avail slot, without storing
  /// `avail.idx`. Returns the head descriptor.
  @inlinable @inline(__always)
  mutating func offer(
    address: UInt64, length: UInt32, isWritable: Bool, token: UInt32
  ) throws(VirtioError) -> UInt16 {
    if broken { throw brokenError! }
    guard _freeCount > 0 else { throw Self.full(1, 0, layout.count) }
    let head = freeHead
    let h = Int(head)
    freeHead = slots[h].link
    _freeCount &-= 1
    view.updateDescriptor(head, address: address, length: length,
                          flags: isWritable ? DescriptorFlags.write.rawValue : 0, next: 0)
    slots[h].chainLength = 1
    slots[h].bytes = UInt64(length)
    slots[h].token = token
    stage(head)
    return head
  }

  /// Offers a chain (device-readable buffers first, then writable ones, as virtio requires)
  /// and publishes it. Linux: `virtqueue_add_sgs`. Returns the head descriptor.
  public mutating func add(_ buffers: [VirtqueueBuffer], token: UInt32 = 0) throws(VirtioError) -> UInt16 {
    if let brokenError { throw brokenError }
    guard !buffers.isEmpty else { throw VirtioError(.invalidArgument, "empty chain") }
    if let w = buffers.firstIndex(where: \.isWritable),
      let r = buffers[w...].firstIndex(where: { !$0.isWritable })
    {
      throw VirtioError(.invalidArgument,
                        "buffer \(r) is device-readable after writable buffer \(w)")
    }
    guard buffers.count <= freeCount else {
      throw Self.full(buffers.count, freeCount, layout.count)
    }
    let head = freeHead
    var index = head
    var total: UInt64 = 0
    for (i, buffer) in buffers.enumerated() {
      let last = i == buffers.count - 1
      let next = slots[Int(index)].link
      var flags: DescriptorFlags = buffer.isWritable ? .write : []
      if !last { flags.insert(.next) }
      view.updateDescriptor(index, address: buffer.address, length: buffer.length,
                            flags: flags.rawValue, next: last ? 0 : next)
      total += UInt64(buffer.length)
      if !last { index = next }
    }
    freeHead = slots[Int(index)].link
    _freeCount -= buffers.count
    slots[Int(head)].chainLength = UInt16(buffers.count)
    slots[Int(head)].bytes = total
    slots[Int(head)].token = token
    publish(head)
    return head
  }

  /// Writes the avail slot (unless it holds `head` already), then release-stores the index
  /// (the slot is visible first), which also publishes any chain offered unpublished.
  @inlinable @inline(__always)
  mutating func publish(_ head: UInt16) {
    stage(head)
    publishAvailable()
  }

  /// Writes the avail slot for `head` (unless it holds it already) and counts it as offered
  /// but not yet published.
  @inlinable @inline(__always)
  mutating func stage(_ head: UInt16) {
    view.updateAvailRing(availShadow, head)
    availShadow &+= 1
    _inFlight &+= 1
    unpublished &+= 1
  }

  /// Offers one buffer like ``add(address:length:isWritable:token:)`` but does not store
  /// `avail.idx`: the device sees it with the next ``publishAvailable()`` (or the next
  /// ``add(address:length:isWritable:token:)``). Refilling a ring the device is far from
  /// emptying, a driver that publishes every few buffers leaves the device's copy of the
  /// index's line valid in between. (Linux stores `avail.idx` on every add.)
  @inlinable @inline(__always)
  public mutating func addUnpublished(
    address: UInt64, length: UInt32, isWritable: Bool, token: UInt32 = 0
  ) throws(VirtioError) {
    _ = try offer(address: address, length: length, isWritable: isWritable, token: token)
  }

  /// Stores `avail.idx` for the chains offered unpublished (release: their slots and
  /// descriptors are visible first); the next ``kickPrepare()`` counts them.
  @inlinable @inline(__always)
  public mutating func publishAvailable() {
    guard unpublished > 0 else { return }
    view.storeAvailIndex(availShadow)
    // Saturate: a saturated count always kicks.
    added = UInt16.max &- added < unpublished ? .max : added &+ unpublished
    unpublished = 0
  }

  /// Chains offered and not yet published.
  public var unpublishedCount: Int { Int(unpublished) }

  /// Chains the device can see and has not returned: published, not yet reclaimed.
  public var publishedInFlight: Int { _inFlight &- Int(unpublished) }

  // MARK: Taking buffers back

  /// Takes back the next chain the device used, or nil when there is none.
  /// Linux: `virtqueue_get_buf_ctx_split`, with every field checked.
  @inlinable @inline(__always)
  public mutating func reclaim() throws(VirtioError) -> UsedBuffer? {
    if broken { throw brokenError! }
    if lastUsed == usedSeen {
      // used.idx is device-owned: acquire, so the elements up to it are the ones it published.
      let usedIndex = view.loadUsedIndex()
      if usedIndex == lastUsed { return nil }
      guard Int(usedIndex &- lastUsed) <= _inFlight else {
        throw usedIndexRanAhead(usedIndex)
      }
      usedSeen = usedIndex
    }
    let (id, length) = view.usedElement(lastUsed)
    guard id < UInt32(truncatingIfNeeded: layout.count) else { throw usedIDOutOfRange(id) }
    let h = Int(id)
    let slot = slots[h]
    let n = slot.chainLength
    guard n > 0 else { throw usedIDNotInFlight(id) }
    guard UInt64(length) <= slot.bytes else { throw usedLengthTooLong(id, length) }
    // Return the chain's descriptors to the free list, following the private links.
    slots[h].chainLength = 0
    var last = h
    var k: UInt16 = 1
    while k < n {
      last = Int(slots[last].link)
      k &+= 1
    }
    slots[last].link = freeHead
    freeHead = UInt16(truncatingIfNeeded: h)
    _freeCount &+= Int(n)
    _inFlight &-= 1
    lastUsed &+= 1
    return UsedBuffer(head: UInt16(truncatingIfNeeded: h), length: length, token: slot.token)
  }

  @usableFromInline @inline(never)
  mutating func usedIndexRanAhead(_ usedIndex: UInt16) -> VirtioError {
    broke(.brokenQueue,
          "used idx \(usedIndex) is \(usedIndex &- lastUsed) past last seen \(lastUsed), "
            + "but only \(inFlight) buffer(s) are in flight")
  }

  @usableFromInline @inline(never)
  mutating func usedIDOutOfRange(_ id: UInt32) -> VirtioError {
    broke(.brokenQueue, "used id \(id) ≥ ring size \(layout.count)")
  }

  @usableFromInline @inline(never)
  mutating func usedIDNotInFlight(_ id: UInt32) -> VirtioError {
    broke(.brokenQueue, "used id \(id) is not the head of a buffer in flight")
  }

  @usableFromInline @inline(never)
  mutating func usedLengthTooLong(_ id: UInt32, _ length: UInt32) -> VirtioError {
    broke(.brokenQueue,
          "used len \(length) for id \(id) exceeds the \(slots[Int(id)].bytes) byte(s) offered")
  }

  /// The token of the chain the device will most likely return next, for prefetching: the
  /// one offered at avail index `last_used` (a device that uses buffers in order, as rpmsg's
  /// do, returns exactly that one). Nil when that slot holds no chain in flight. Only a
  /// guess, to be used as a hint: the slot is shared memory (a peer could overwrite it),
  /// so the value only indexes the driver's own records, checked.
  @inlinable @inline(__always)
  public func expectedUsedToken() -> UInt32? {
    let head = Int(view.availRing(lastUsed))
    guard head < slots.count, slots[head].chainLength > 0 else { return nil }
    return slots[head].token
  }

  /// True when the device has returned a chain not yet reclaimed. Linux: `more_used_split`.
  public func hasUsed() -> Bool {
    !broken && view.loadUsedIndex() != lastUsed
  }

  /// Forgets every chain in flight and returns their tokens, for a reset after the device
  /// stopped. Linux: `virtqueue_detach_unused_buf` in a loop.
  public mutating func detachAll() -> [UInt32] {
    var detached: [UInt32] = []
    for h in 0..<layout.count where slots[h].chainLength > 0 {
      detached.append(slots[h].token)
    }
    slots = (0..<layout.count).map { Slot(link: UInt16(truncatingIfNeeded: $0 + 1)) }
    freeHead = 0
    _freeCount = layout.count
    _inFlight = 0
    availShadow &-= unpublished  // never seen by the device
    unpublished = 0
    usedSeen = lastUsed
    return detached
  }
}
