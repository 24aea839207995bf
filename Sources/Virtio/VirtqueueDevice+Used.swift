import SharedMemory

/// Returning chains and notification suppression on the device side.
extension VirtqueueDevice {
  /// Gives a chain back to the driver with the number of bytes written into it: the used
  /// element first, then a release-store of `used.idx`. OpenAMP:
  /// `virtqueue_add_consumed_buffer`; Linux vhost: `vhost_add_used`.
  @inlinable @inline(__always)
  public mutating func returnUsed(head: UInt16, length: UInt32) throws(VirtioError) {
    if broken { throw brokenError! }
    let h = Int(head)
    guard h < layout.count, held[h] >= 0 else { throw notHeld(head) }
    guard Int64(length) <= held[h] else { throw tooLong(head, length) }
    view.setUsedElement(usedShadow, id: UInt32(head), length: length)
    usedShadow &+= 1
    view.storeUsedIndex(usedShadow)
    held[h] = -1
    _heldCount &-= 1
    if added != .max { added &+= 1 }
  }

  @usableFromInline @inline(never)
  func notHeld(_ head: UInt16) -> VirtioError {
    VirtioError(.invalidArgument, "head \(head) is not held by the device")
  }

  @usableFromInline @inline(never)
  func tooLong(_ head: UInt16, _ length: UInt32) -> VirtioError {
    VirtioError(.invalidArgument,
                "used len \(length) exceeds the \(held[Int(head)]) byte(s) of chain \(head)")
  }

  /// Decides whether the driver must be notified of the chains returned since the last call.
  /// OpenAMP: `vq_ring_must_notify`; Linux vhost: `vhost_notify`.
  @inlinable @inline(__always)
  public mutating func shouldNotify() -> Bool {
    guard !broken, added > 0 else {
      added = 0
      return false
    }
    MemoryRegion.fullFence()
    let new = usedShadow
    let old = usedShadow &- added
    added = 0
    if usesEventIndex {
      // used_event is driver-owned; any value is acceptable.
      return vringNeedsEvent(eventIndex: view.usedEvent, new: new, old: old)
    } else {
      return view.availFlags & vringAvailNoInterrupt == 0
    }
  }

  /// Asks the driver not to kick us for new buffers. OpenAMP: `virtqueue_disable_cb` on
  /// the device side. Only a hint.
  public mutating func disableNotifications() {
    guard notificationsEnabled else { return }
    notificationsEnabled = false
    if usesEventIndex {
      view.setAvailEvent(lastAvail &- UInt16(truncatingIfNeeded: layout.count) &- 1)
    } else {
      view.setUsedFlags(vringUsedNoNotify)
    }
  }

  /// Asks the driver to kick us for the next buffer and reports whether none is waiting.
  /// When it returns false, buffers arrived meanwhile: take them (the kick may never come).
  @inlinable
  public mutating func enableNotifications() -> Bool {
    if !notificationsEnabled {
      notificationsEnabled = true
      if !usesEventIndex { view.setUsedFlags(0) }
    }
    if usesEventIndex {
      // avail_event is device-owned: "kick me once avail.idx passes last_avail".
      view.setAvailEvent(lastAvail)
    }
    MemoryRegion.fullFence()
    return !hasAvailable()
  }

  /// Ends a batch: asks for kicks again and decides whether to notify the driver, with one
  /// fence for both (the stores of `used.idx` and `avail_event` come before it, the loads of
  /// `used_event`/flags and `avail.idx` after it). Returns `notify` and `idle` (no chain is
  /// waiting; when false, take more before sleeping).
  @inlinable @inline(__always)
  public mutating func finishBatch() -> (notify: Bool, idle: Bool) {
    if !notificationsEnabled {
      notificationsEnabled = true
      if !usesEventIndex { view.setUsedFlags(0) }
    }
    if usesEventIndex { view.setAvailEvent(lastAvail) }
    MemoryRegion.fullFence()
    var notify = false
    if !broken, added > 0 {
      let new = usedShadow
      let old = usedShadow &- added
      if usesEventIndex {
        notify = vringNeedsEvent(eventIndex: view.usedEvent, new: new, old: old)
      } else {
        notify = view.availFlags & vringAvailNoInterrupt == 0
      }
    }
    added = 0
    return (notify, broken || view.loadAvailIndex() == lastAvail)
  }

  /// How many chains the driver offered that we have not taken (one acquire-load of
  /// `avail.idx`, checked: more than num ahead breaks the queue). A batch can take exactly
  /// that many without asking again.
  @inlinable @inline(__always)
  public mutating func availableCount() throws(VirtioError) -> Int {
    if broken { throw brokenError! }
    let index = view.loadAvailIndex()
    let pending = Int(index &- lastAvail)
    guard pending <= layout.count else { throw availIndexRanAhead(index) }
    availSeen = index
    return pending
  }

  /// True when the driver offered a chain we have not taken.
  public func hasAvailable() -> Bool {
    !broken && view.loadAvailIndex() != lastAvail
  }

  /// The next available index the device will read. Linux vhost: `last_avail_idx`.
  public var lastAvailableIndex: UInt16 { lastAvail }
  /// The used index the device published last. Wire: `used.idx`.
  public var usedIndex: UInt16 { usedShadow }
  /// True while the device asked for kicks.
  public var wantsNotifications: Bool { notificationsEnabled }
}
