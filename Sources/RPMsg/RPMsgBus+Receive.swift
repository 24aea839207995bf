import SharedMemory
import Synchronization
import Virtio

extension RPMsgBus {
  /// The peer kicked vring `index` (0 or 1 of the vdev). Linux: `rproc_vq_interrupt` →
  /// `vring_interrupt` → `rpmsg_recv_done` / `rpmsg_xmit_done`.
  public func handleKick(vring index: Int) {
    if index == (role == .host ? 0 : 1) { receive() } else { transmitCompleted() }
  }

  /// The peer kicked a vring with this notify id (unknown ids are ignored).
  public func handleKick(notifyID: UInt32) {
    if notifyID == receiveNotifyID.load(ordering: .relaxed) { receive() }
    if notifyID == transmitNotifyID.load(ordering: .relaxed) { transmitCompleted() }
  }

  /// The peer kicked without saying which vring (one doorbell for all): check both.
  public func handleKick() {
    receive()
    transmitCompleted()
  }

  func transmitCompleted() {
    guard tx.withLock({ $0.running }) else { return }
    signalWritable()
  }

  /// The receive path: takes every message waiting, delivers it, gives its buffer back
  /// and kicks the peer once per batch. One thread at a time; a kick from inside a
  /// callback only marks more work for the running loop.
  func receive() {
    let me = Self.currentThread
    if dispatcher.load(ordering: .acquiring) == me {
      receivePending.store(true, ordering: .releasing)
      return
    }
    let kick = rx.withLock { s -> UInt32? in
      guard s.running else { return nil }
      dispatcher.store(me, ordering: .releasing)
      var kick = false
      repeat {
        receivePending.store(false, ordering: .releasing)
        kick = drain(&s) || kick
      } while receivePending.load(ordering: .acquiring)
      dispatcher.store(0, ordering: .releasing)
      return kick ? s.notifyID : nil
    }
    if let kick { notify(kick) }
    if resetRequested.load(ordering: .acquiring),
      resetRequested.exchange(false, ordering: .acquiringAndReleasing),
      let reason = deferredReset.withLock({ r in defer { r = nil }; return r })
    {
      reset(reason: reason.message)
    }
  }

  /// Processes until the ring is empty; returns whether to kick the peer.
  /// Called with `s.running`, which implies the role's receiver is set.
  func drain(_ s: inout RxState) -> Bool {
    let (kick, error) = role == .host
      ? drainHost(&s.host!, &s.delivery) : drainRemote(&s.remote!, &s.delivery)
    if let error { breakReceive(&s, error) }
    return kick
  }

  /// The host's receive loop (vring 0, driver role): takes every used buffer, delivers it,
  /// posts it again, and ends each batch asking for the next interrupt. Returns "kick" and
  /// the error that broke the ring, if one did.
  func drainHost(_ ring: inout HostReceiver, _ d: inout Delivery) -> (Bool, VirtioError?) {
    var kick = false
    while true {
      do throws(VirtioError) {
        // Count once, then take exactly that many (no extra empty look at the ring).
        var pending = try ring.queue.usedCount()
        while pending > 0 {
          pending &-= 1
          guard let used = try ring.queue.reclaim() else { break }
          let slot = BufferSlot(window: 0, offset: Int(used.token) &* RPMsgWire.bufferSize,
                                capacity: RPMsgWire.bufferSize, token: used.token)
          if !deliver(&d, slot, Int(used.length)) { try ring.post(used.token) }
          if returnsCount.load(ordering: .acquiring) > 0 {
            try recycleReturns(epoch: d.epoch) { (slot) throws(VirtioError) in
              try ring.post(slot.token)
            }
          }
        }
      } catch {
        return (kick, error)
      }
      let batch = ring.queue.finishBatch()
      kick = kick || batch.kick
      receivedCount.store(d.received, ordering: .relaxed)
      if batch.idle { return (kick, nil) }
    }
  }

  /// The remote's receive loop (vring 1, device role): takes every available chain,
  /// delivers it, returns it used, and ends each batch asking for the next kick.
  func drainRemote(_ ring: inout RemoteReceiver, _ d: inout Delivery) -> (Bool, VirtioError?) {
    var kick = false
    while true {
      do throws(VirtioError) {
        var pending = try ring.queue.availableCount()
        while pending > 0 {
          pending &-= 1
          guard let chain = try ring.queue.takeAvailable() else { break }
          let first = chain.first
          let usable = !first.isWritable
          let capacity = usable ? min(Int(first.length), RPMsgWire.bufferSize) : 0
          let slot = BufferSlot(window: first.location.window, offset: first.location.offset,
                                capacity: capacity, token: UInt32(chain.head),
                                returnLength: usable ? first.length : 0)
          if !deliver(&d, slot, capacity) {
            try ring.queue.returnUsed(head: chain.head, length: slot.returnLength)
          }
          if returnsCount.load(ordering: .acquiring) > 0 {
            try recycleReturns(epoch: d.epoch) { (slot) throws(VirtioError) in
              try ring.recycle(slot)
            }
          }
        }
      } catch {
        return (kick, error)
      }
      let batch = ring.queue.finishBatch()
      kick = kick || batch.notify
      receivedCount.store(d.received, ordering: .relaxed)
      if batch.idle { return (kick, nil) }
    }
  }

  func breakReceive(_ s: inout RxState, _ error: VirtioError) {
    let e = RPMsgError(error)
    if s.brokenError == nil {
      s.brokenError = e
      brokenErrors.withLock { $0 = $0 ?? e }
      log("receive vring broken: \(error)")
    }
  }

  /// Gives a buffer back to the peer: the host posts it again, the remote returns it used.
  @inline(__always)
  func recycle(_ s: inout RxState, _ slot: BufferSlot) throws(VirtioError) {
    if role == .host { try s.host!.post(slot.token) } else { try s.remote!.recycle(slot) }
  }

  /// Recycles the buffers of boot `epoch` released inside callbacks since the last call.
  func recycleReturns(
    epoch: UInt64, _ recycle: (BufferSlot) throws(VirtioError) -> Void
  ) throws(VirtioError) {
    let list = returns.withLock { r -> [ReturnedBuffer] in
      defer { r.removeAll(keepingCapacity: true) }
      returnsCount.store(0, ordering: .releasing)
      return r
    }
    for r in list where r.epoch == epoch { try recycle(r.slot) }
  }

  func drop(_ counter: WritableKeyPath<RPMsgCounters, UInt64>, _ why: String) {
    drops.withLock { $0[keyPath: counter] += 1 }
    log(why)
  }

  /// Checks a message and hands it to its endpoint. Returns true when the callback held
  /// the buffer. Linux: `rpmsg_recv_single`.
  @inline(__always)
  func deliver(_ d: inout Delivery, _ slot: BufferSlot, _ length: Int) -> Bool {
    guard length >= RPMsgWire.headerSize else { return dropShort(length) }
    let source: UInt32, destination: UInt32, count: UInt16
    do {
      // The region passed in place from the map: a local copy would retain its mapping
      // (an atomic operation per message).
      (source, destination, count) = try RPMsgWire.readHeader(
        in: d.map.windows[slot.window].region, at: slot.offset, order: d.order)
    } catch {
      return dropUnreadable(error)
    }
    guard Int(count) <= length &- RPMsgWire.headerSize else {
      return dropBadLength(count, length, source)
    }
    if tapping.load(ordering: .relaxed) {
      tapReceived(d.map, d.order, slot, source: source, destination: destination, count: Int(count))
    }
    if destination == d.cachedAddress, d.cachedCallback != nil,
      generation.load(ordering: .acquiring) == d.cachedGeneration
    {
      // Hot path: the same callback endpoint as last time, nothing created or destroyed.
      // The session and the endpoint move into the message and back; the callback is
      // borrowed in place.
      d.received &+= 1
      var message = RPMsgReceivedMessage(
        source: EndpointAddress(source), destination: EndpointAddress(destination),
        count: Int(count), session: d.session.take()!, receiver: d.cachedEndpoint.take()!,
        slot: slot)
      switch d.cachedCallback {
      case .some(let callback): callback.call(&message)
      case .none: break
      }
      return message.finish(into: &d)
    }
    return deliverLookingUp(&d, slot, source: source, destination: destination, count: count)
  }

  @inline(never)
  func dropShort(_ length: Int) -> Bool {
    drop(\.droppedBadBuffer, "dropped a buffer of \(length) bytes (shorter than a header)")
    return false
  }

  @inline(never)
  func dropUnreadable(_ error: SharedMemoryError) -> Bool {
    drop(\.droppedBadBuffer, "dropped an unreadable buffer: \(error.message)")
    return false
  }

  @inline(never)
  func dropBadLength(_ count: UInt16, _ length: Int, _ source: UInt32) -> Bool {
    drop(\.droppedBadLength,
         "dropped a message: header len \(count) exceeds its buffer's "
           + "\(length - RPMsgWire.headerSize) payload bytes (from \(EndpointAddress(source)))")
    return false
  }

  /// Delivery after a cache miss: looks the endpoint up, refreshes the cache, and handles
  /// every kind of endpoint.
  @inline(never)
  func deliverLookingUp(
    _ d: inout Delivery, _ slot: BufferSlot, source: UInt32, destination: UInt32, count: UInt16
  ) -> Bool {
    let generationNow = generation.load(ordering: .acquiring)
    let endpoint: RPMsgEndpoint?
    if destination == d.cachedAddress, generationNow == d.cachedGeneration {
      switch d.cachedEndpoint {
      case .some(let reference): endpoint = reference.value
      case .none: endpoint = nil
      }
    } else {
      endpoint = endpoints.withLock { $0.byAddress[destination] }
      d.cachedAddress = destination
      d.cachedGeneration = generationNow
      d.cachedEndpoint = endpoint.map { EndpointReference(value: $0) }
      d.cachedCallback = endpoint?.callback.map { ReceiveCallback(call: $0) }
    }
    guard let endpoint else {
      drop(\.droppedNoEndpoint,
           "dropped a message of \(count) bytes from \(EndpointAddress(source)): "
             + "no endpoint at \(EndpointAddress(destination))")
      return false
    }
    d.received &+= 1
    switch endpoint.receiver {
    case .callback(let callback):
      var message = RPMsgReceivedMessage(
        source: EndpointAddress(source), destination: EndpointAddress(destination),
        count: Int(count), session: d.session.take()!,
        receiver: EndpointReference(value: endpoint), slot: slot)
      callback(&message)
      return message.finish(into: &d)
    case .stream(let continuation):
      let payload = (try? d.map.windows[slot.window].region.bytes(
        at: slot.offset &+ RPMsgWire.headerSize, count: Int(count))) ?? []
      let result = continuation.yield(RPMsgMessage(
        source: EndpointAddress(source), destination: EndpointAddress(destination),
        payload: payload))
      if case .dropped = result {
        drop(\.droppedQueueFull, "dropped a message for \(endpoint.address): its queue is full")
      }
      return false
    case .nameService:
      let order = d.order
      let bytes = (try? d.map.windows[slot.window].region.bytes(
        at: slot.offset &+ RPMsgWire.headerSize, count: Int(count))) ?? []
      handleNameService(bytes, from: EndpointAddress(source), order: order)
      return false
    }
  }

  /// Gives back a buffer a callback held. Inside a callback it is queued and recycled when
  /// the callback returns; elsewhere it is recycled at once (waiting for a running
  /// receive loop to finish) and the peer kicked if it asks.
  func releaseReceived(_ slot: BufferSlot, epoch: UInt64) {
    if onDispatcher {
      returns.withLock { $0.append(ReturnedBuffer(slot: slot, epoch: epoch)) }
      returnsCount.add(1, ordering: .releasing)
      return
    }
    let kick = rx.withLock { s -> UInt32? in
      guard s.running, s.epoch == epoch, s.brokenError == nil else { return nil }
      do throws(VirtioError) {
        try recycle(&s, slot)
      } catch {
        breakReceive(&s, error)
        return nil
      }
      let notify = role == .host ? s.host!.queue.kickPrepare() : s.remote!.queue.shouldNotify()
      return notify ? s.notifyID : nil
    }
    if let kick { notify(kick) }
  }
}
