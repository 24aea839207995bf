import SharedMemory

/// Notification suppression on the driver side: when to kick the device, and whether the
/// device should interrupt us when it returns buffers.
extension VirtqueueDriver {
  /// Decides whether the device must be kicked for the chains published since the last call.
  /// Linux: `virtqueue_kick_prepare_split`.
  ///
  /// A full fence orders our index store before the read of the device's suppression state
  /// (Linux: `virtio_mb`). With EVENT_IDX the device's `avail_event` says which index it
  /// wants to hear about (`vring_need_event`); without, `used.flags` `NO_NOTIFY` says
  /// "don't kick".
  @inlinable @inline(__always)
  public mutating func kickPrepare() -> Bool {
    guard !broken, added > 0 else {
      added = 0
      return false
    }
    MemoryRegion.fullFence()
    let new = availShadow
    let old = availShadow &- added
    added = 0
    if usesEventIndex {
      // avail_event is device-owned; any value is acceptable.
      return vringNeedsEvent(eventIndex: view.availEvent, new: new, old: old)
    } else {
      return view.usedFlags & vringUsedNoNotify == 0
    }
  }

  /// Asks the device not to interrupt us when it returns buffers. Linux:
  /// `virtqueue_disable_cb_split`. Only a hint: the device may still interrupt.
  public mutating func disableCallbacks() {
    guard availFlagsShadow & vringAvailNoInterrupt == 0 else { return }
    availFlagsShadow |= vringAvailNoInterrupt
    if usesEventIndex {
      // With EVENT_IDX the flags must stay 0; park used_event where it is never crossed.
      view.setUsedEvent(lastUsed &- UInt16(truncatingIfNeeded: layout.count) &- 1)
    } else {
      view.setAvailFlags(availFlagsShadow)
    }
  }

  /// Asks the device to interrupt us for the next returned buffer and reports whether the
  /// used ring is empty. When it returns false, buffers arrived meanwhile: reclaim them
  /// (the interrupt for them may never come). Linux: `virtqueue_enable_cb`
  /// (`enable_cb_prepare` + `poll`).
  @inlinable
  public mutating func enableCallbacks() -> Bool {
    if availFlagsShadow & vringAvailNoInterrupt != 0 {
      availFlagsShadow &= ~vringAvailNoInterrupt
      if !usesEventIndex { view.setAvailFlags(availFlagsShadow) }
    }
    if usesEventIndex {
      // used_event is driver-owned: "interrupt me once used.idx passes last_used".
      view.setUsedEvent(lastUsed)
    }
    MemoryRegion.fullFence()
    return !hasUsed()
  }

  /// Ends a batch: asks for the next interrupt and decides whether to kick for the chains
  /// published meanwhile, with one fence for both (`avail.idx` and `used_event` stored
  /// before it; `avail_event`/flags and `used.idx` loaded after it). Returns `kick` and
  /// `idle` (no used chain is waiting; when false, reclaim more first).
  @inlinable @inline(__always)
  public mutating func finishBatch() -> (kick: Bool, idle: Bool) {
    if availFlagsShadow & vringAvailNoInterrupt != 0 {
      availFlagsShadow &= ~vringAvailNoInterrupt
      if !usesEventIndex { view.setAvailFlags(availFlagsShadow) }
    }
    if usesEventIndex { view.setUsedEvent(lastUsed) }
    MemoryRegion.fullFence()
    var kick = false
    if !broken, added > 0 {
      let new = availShadow
      let old = availShadow &- added
      if usesEventIndex {
        kick = vringNeedsEvent(eventIndex: view.availEvent, new: new, old: old)
      } else {
        kick = view.usedFlags & vringUsedNoNotify == 0
      }
    }
    added = 0
    return (kick, broken || view.loadUsedIndex() == lastUsed)
  }

  /// How many used chains wait to be reclaimed (one acquire-load of `used.idx`, checked:
  /// more than the chains in flight breaks the queue).
  @inlinable @inline(__always)
  public mutating func usedCount() throws(VirtioError) -> Int {
    if broken { throw brokenError! }
    let index = view.loadUsedIndex()
    let pending = Int(index &- lastUsed)
    guard pending <= _inFlight else { throw usedIndexRanAhead(index) }
    usedSeen = index
    return pending
  }

  /// True while the driver asked for interrupts. Linux: `!(avail_flags_shadow & NO_INTERRUPT)`.
  public var callbacksEnabled: Bool { availFlagsShadow & vringAvailNoInterrupt == 0 }

  /// The driver's published available index. Wire: `avail.idx`.
  public var availableIndex: UInt16 { availShadow }
  /// The next used index the driver will read. Linux: `last_used_idx`.
  public var lastUsedIndex: UInt16 { lastUsed }
}
