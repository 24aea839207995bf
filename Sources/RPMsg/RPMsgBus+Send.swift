import SharedMemory
import Synchronization
import Virtio

extension RPMsgBus {
  @inline(never)
  static func badAddress(_ source: EndpointAddress, _ destination: EndpointAddress) -> RPMsgError {
    RPMsgError(.invalidAddress,
               "cannot send from \(source) to \(destination): RPMSG_ADDR_ANY is not an address")
  }

  @inline(never)
  static func tooLong(_ count: Int, _ capacity: Int) -> RPMsgError {
    RPMsgError(.messageTooLong, "payload of \(count) bytes exceeds the MTU of \(capacity)")
  }

  static let noBufferError = RPMsgError(.noBuffer, "no transmit buffer is free")
  static let notRunningError = RPMsgError(.notRunning, "the bus is not running")

  /// Takes a free transmit buffer. Called with `tx` held.
  func acquireTransmit(_ s: inout TxState) throws(RPMsgError) -> BufferSlot? {
    do {
      if role == .host { return try s.host!.acquire() }
      return try s.remote!.acquire()
    } catch {
      throw breakTransmit(&s, error)
    }
  }

  func breakTransmit(_ s: inout TxState, _ error: VirtioError) -> RPMsgError {
    let e = RPMsgError(error)
    if s.brokenError == nil {
      s.brokenError = e
      brokenErrors.withLock { $0 = $0 ?? e }
      log("transmit vring broken: \(error)")
    }
    return e
  }

  /// Offers a filled buffer; returns whether the peer must be kicked. `tx` held.
  func submitTransmit(_ s: inout TxState, _ slot: BufferSlot, length: Int) throws(RPMsgError) -> Bool {
    do {
      if role == .host { return try s.host!.submit(slot, length: length) }
      return try s.remote!.submit(slot, length: length)
    } catch {
      throw breakTransmit(&s, error)
    }
  }

  /// Sends one message, or throws at once. Linux: `rpmsg_send_offchannel_raw(…, wait = false)`.
  func transmit(
    source: EndpointAddress, destination: EndpointAddress, payload: Span<UInt8>
  ) throws(RPMsgError) {
    guard source != .any, destination != .any else {
      throw Self.badAddress(source, destination)
    }
    let count = payload.count
    guard count <= RPMsgWire.mtu else { throw Self.tooLong(count, RPMsgWire.mtu) }
    if tapping.load(ordering: .relaxed) {
      return try transmitTapped(source: source, destination: destination, payload: payload)
    }
    if let kick = try transmitChecked(source: source, destination: destination, payload: payload) { notify(kick) }
  }

  /// ``transmit(source:destination:payload:)`` while a tap is set: stamped before the peer
  /// can see the message, shown to the tap once it was sent.
  @inline(never)
  func transmitTapped(
    source: EndpointAddress, destination: EndpointAddress, payload: Span<UInt8>
  ) throws(RPMsgError) {
    let time = ContinuousClock.now
    let kick = try transmitChecked(source: source, destination: destination, payload: payload)
    tapSent(source: source, destination: destination, payload: payload, time: time)
    if let kick { notify(kick) }
  }

  /// The send itself, addresses and length already checked; returns the notify id to kick
  /// (the caller kicks after any tap saw the message, so the tap sees it before the reply).
  @inline(__always)
  func transmitChecked(
    source: EndpointAddress, destination: EndpointAddress, payload: Span<UInt8>
  ) throws(RPMsgError) -> UInt32? {
    let kick = try tx.withLock { (s) throws(RPMsgError) -> UInt32? in
      guard s.running else { throw Self.notRunningError }
      if let e = s.brokenError { throw e }
      do {
        // The common path, fused in the role's transmitter: one call per message.
        let kick: Bool?
        do throws(RPMsgError) {
          if role == .host {
            kick = try s.host!.send(source: source.rawValue, destination: destination.rawValue,
                                    payload: payload, order: s.order)
          } else {
            kick = try s.remote!.send(source: source.rawValue, destination: destination.rawValue,
                                      payload: payload, order: s.order)
          }
        } catch {
          if error.code == .transport, s.brokenError == nil {
            s.brokenError = error
            brokenErrors.withLock { $0 = $0 ?? error }
            log("transmit vring broken: \(error)")
          }
          throw error
        }
        guard let kick else { throw Self.noBufferError }
        s.sent &+= 1
        sentCount.store(s.sent, ordering: .relaxed)
        return kick ? s.notifyID : nil
      }
    }
    return kick
  }

  func giveBack(_ s: inout TxState, _ slot: BufferSlot) {
    if role == .host { s.host!.giveBack(slot) } else { s.remote!.giveBack(slot) }
  }

  // MARK: Zero-copy transmit

  func borrowTransmitBuffer(
    source: EndpointAddress, destination: EndpointAddress
  ) throws(RPMsgError) -> RPMsgTransmitBuffer {
    let (slot, region, epoch) = try tx.withLock {
      (s) throws(RPMsgError) -> (BufferSlot, MemoryRegion, UInt64) in
      guard s.running else { throw Self.notRunningError }
      if let e = s.brokenError { throw e }
      guard let slot = try acquireTransmit(&s) else { throw Self.noBufferError }
      s.borrowed += 1
      return (slot, s.map.windows[slot.window].region, s.epoch)
    }
    return RPMsgTransmitBuffer(bus: self, slot: slot, region: region, epoch: epoch,
                               source: source, destination: destination)
  }

  /// Sends a borrowed buffer filled with `count` payload bytes.
  func sendBorrowed(
    _ slot: BufferSlot, epoch: UInt64, count: Int, source: EndpointAddress,
    destination: EndpointAddress
  ) throws(RPMsgError) {
    guard source != .any, destination != .any else {
      returnBorrowed(slot, epoch: epoch)
      throw Self.badAddress(source, destination)
    }
    guard count >= 0, count &+ RPMsgWire.headerSize <= slot.capacity else {
      returnBorrowed(slot, epoch: epoch)
      throw Self.tooLong(count, slot.capacity &- RPMsgWire.headerSize)
    }
    if tapping.load(ordering: .relaxed) {
      return try sendBorrowedTapped(slot, epoch: epoch, count: count, source: source, destination: destination)
    }
    if let kick = try sendBorrowedChecked(slot, epoch: epoch, count: count, source: source, destination: destination) {
      notify(kick)
    }
  }

  /// ``sendBorrowed(_:epoch:count:source:destination:)`` while a tap is set.
  @inline(never)
  func sendBorrowedTapped(
    _ slot: BufferSlot, epoch: UInt64, count: Int, source: EndpointAddress, destination: EndpointAddress
  ) throws(RPMsgError) {
    let time = ContinuousClock.now
    // The buffer is still this side's: copy what the tap will see before it goes.
    let payload = tx.withLock { s -> [UInt8] in
      guard s.epoch == epoch, s.running else { return [] }
      return (try? s.map.windows[slot.window].region.bytes(at: slot.offset &+ RPMsgWire.headerSize, count: count)) ?? []
    }
    let kick = try sendBorrowedChecked(slot, epoch: epoch, count: count, source: source, destination: destination)
    tapSent(source: source, destination: destination, payload: payload.span, time: time)
    if let kick { notify(kick) }
  }

  /// Sends a borrowed buffer, addresses and length already checked; returns the notify id
  /// to kick.
  @inline(__always)
  func sendBorrowedChecked(
    _ slot: BufferSlot, epoch: UInt64, count: Int, source: EndpointAddress, destination: EndpointAddress
  ) throws(RPMsgError) -> UInt32? {
    let kick = try tx.withLock { (s) throws(RPMsgError) -> UInt32? in
      guard s.epoch == epoch, s.running else {
        throw RPMsgError(.reset, "the bus was reset while the buffer was borrowed")
      }
      s.borrowed -= 1
      do throws(SharedMemoryError) {
        try RPMsgWire.writeHeader(
          into: s.map.windows[slot.window].region, at: slot.offset, source: source.rawValue,
          destination: destination.rawValue, length: UInt16(count), order: s.order)
      } catch {
        giveBack(&s, slot)
        throw RPMsgError(.transport, "writing a header: \(error.message)")
      }
      let kick = try submitTransmit(&s, slot, length: count &+ RPMsgWire.headerSize)
      s.sent &+= 1
      sentCount.store(s.sent, ordering: .relaxed)
      return kick ? s.notifyID : nil
    }
    return kick
  }

  /// Puts a borrowed buffer back unsent (it stays with this side, reused first).
  func returnBorrowed(_ slot: BufferSlot, epoch: UInt64) {
    let returned = tx.withLock { s -> Bool in
      guard s.epoch == epoch, s.running else { return false }
      s.borrowed -= 1
      giveBack(&s, slot)
      return true
    }
    if returned { signalWritable() }
  }
}
