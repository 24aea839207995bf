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
  func drain(_ s: inout RxState) -> Bool {
    var kick = false
    while true {
      do {
        // Count once, then take exactly that many (no extra empty look at the ring).
        var pending = try role == .host ? s.host!.queue.usedCount() : s.remote!.queue.availableCount()
        while pending > 0 {
          pending &-= 1
          if role == .remote {
            // The remote's common path, without the transport layer in between.
            guard let chain = try s.remote!.queue.takeAvailable() else { break }
            let d = chain.first
            let usable = !d.isWritable
            let capacity = usable ? min(Int(d.length), RPMsgWire.bufferSize) : 0
            let slot = BufferSlot(window: d.location.window, offset: d.location.offset,
                                  capacity: capacity, token: UInt32(chain.head),
                                  returnLength: usable ? d.length : 0)
            if !deliver(&s, slot, capacity) {
              try s.remote!.queue.returnUsed(head: chain.head, length: slot.returnLength)
            }
          } else {
            guard let used = try s.host!.queue.reclaim() else { break }
            let slot = BufferSlot(window: 0, offset: Int(used.token) &* RPMsgWire.bufferSize,
                                  capacity: RPMsgWire.bufferSize, token: used.token)
            if !deliver(&s, slot, Int(used.length)) { try s.host!.post(used.token) }
          }
          if returnsCount.load(ordering: .acquiring) > 0 { try recycleReturns(&s) }
        }
      } catch {
        breakReceive(&s, error)
        return kick
      }
      let batch: (kick: Bool, idle: Bool)
      if role == .host {
        let b = s.host!.queue.finishBatch()
        batch = (b.kick, b.idle)
      } else {
        let b = s.remote!.queue.finishBatch()
        batch = (b.notify, b.idle)
      }
      kick = kick || batch.kick
      receivedCount.store(s.received, ordering: .relaxed)
      if batch.idle { return kick }
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

  func recycleReturns(_ s: inout RxState) throws(VirtioError) {
    let list = returns.withLock { r -> [ReturnedBuffer] in
      defer { r.removeAll(keepingCapacity: true) }
      returnsCount.store(0, ordering: .releasing)
      return r
    }
    for r in list where r.epoch == s.epoch { try recycle(&s, r.slot) }
  }

  func drop(_ s: inout RxState, _ counter: WritableKeyPath<RPMsgCounters, UInt64>, _ why: String) {
    drops.withLock { $0[keyPath: counter] += 1 }
    log(why)
  }

  /// Checks a message and hands it to its endpoint. Returns true when the callback held
  /// the buffer. Linux: `rpmsg_recv_single`.
  func deliver(_ s: inout RxState, _ slot: BufferSlot, _ length: Int) -> Bool {
    guard length >= RPMsgWire.headerSize else {
      drop(&s, \.droppedBadBuffer, "dropped a buffer of \(length) bytes (shorter than a header)")
      return false
    }
    let source: UInt32, destination: UInt32, count: UInt16
    do {
      source = try s.map.windows[slot.window].region.load(UInt32.self, at: slot.offset, order: s.order)
      destination = try s.map.windows[slot.window].region.load(
        UInt32.self, at: slot.offset &+ 4, order: s.order)
      count = try s.map.windows[slot.window].region.load(
        UInt16.self, at: slot.offset &+ 12, order: s.order)
    } catch {
      drop(&s, \.droppedBadBuffer, "dropped an unreadable buffer: \(error.message)")
      return false
    }
    guard Int(count) <= length &- RPMsgWire.headerSize else {
      drop(&s, \.droppedBadLength,
           "dropped a message: header len \(count) exceeds its buffer's "
             + "\(length - RPMsgWire.headerSize) payload bytes (from \(EndpointAddress(source)))")
      return false
    }
    if observers.tapping.load(ordering: .relaxed) {
      tapReceived(&s, slot, source: source, destination: destination, count: Int(count))
    }
    let generationNow = generation.load(ordering: .acquiring)
    if destination == s.cachedAddress, generationNow == s.cachedGeneration,
      s.cachedCallback != nil
    {
      // Hot path: the same callback endpoint as last time, nothing created or destroyed.
      s.received &+= 1
      var message = RPMsgReceivedMessage(
        source: EndpointAddress(source), destination: EndpointAddress(destination),
        count: Int(count), session: s.session!, slot: slot)
      s.cachedCallback!(&message)
      return message.isHeld
    }
    let endpoint: RPMsgEndpoint?
    if destination == s.cachedAddress, generationNow == s.cachedGeneration {
      endpoint = s.cachedEndpoint
    } else {
      endpoint = endpoints.withLock { $0.byAddress[destination] }
      s.cachedAddress = destination
      s.cachedGeneration = generationNow
      s.cachedEndpoint = endpoint
      s.cachedCallback = endpoint?.callback
    }
    guard let endpoint else {
      drop(&s, \.droppedNoEndpoint,
           "dropped a message of \(count) bytes from \(EndpointAddress(source)): "
             + "no endpoint at \(EndpointAddress(destination))")
      return false
    }
    s.received &+= 1
    switch endpoint.receiver {
    case .callback(let callback):
      var message = RPMsgReceivedMessage(
        source: EndpointAddress(source), destination: EndpointAddress(destination),
        count: Int(count), session: s.session!, slot: slot)
      callback(&message)
      return message.isHeld
    case .stream(let continuation):
      let payload = (try? s.map.windows[slot.window].region.bytes(
        at: slot.offset &+ RPMsgWire.headerSize, count: Int(count))) ?? []
      let result = continuation.yield(RPMsgMessage(
        source: EndpointAddress(source), destination: EndpointAddress(destination),
        payload: payload))
      if case .dropped = result {
        drop(&s, \.droppedQueueFull, "dropped a message for \(endpoint.address): its queue is full")
      }
      return false
    case .nameService:
      let order = s.order
      let bytes = (try? s.map.windows[slot.window].region.bytes(
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
