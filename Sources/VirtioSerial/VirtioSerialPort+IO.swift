import Glibc
import SharedMemory
import Synchronization
import Virtio

extension VirtioSerialPort {
  /// The remote kicked vring `index`: 0 delivers received bytes, 1 frees transmit buffers.
  public func handleKick(vring index: Int) {
    if index == 0 { receiveAvailable() } else { wakeWriters() }
  }

  /// The remote kicked without saying which vring.
  public func handleKick() {
    receiveAvailable()
    wakeWriters()
  }

  /// Takes every filled receive buffer, copies its bytes out, re-posts it, kicks once, and
  /// delivers the bytes in order. Linux: `in_intr` → `get_inbuf` → `add_inbuf`.
  ///
  /// One thread delivers at a time (under `delivery`), so chunks never overtake each other;
  /// a kick that arrives on the delivering thread itself (a `receive` closure that writes to
  /// an in-process remote answering at once) only marks more work for the running loop.
  func receiveAvailable() {
    let me = UInt(pthread_self())
    if deliverer.load(ordering: .acquiring) == me {
      deliveryPending.store(true, ordering: .releasing)
      return
    }
    delivery.withLock { _ in
      deliverer.store(me, ordering: .releasing)
      repeat {
        deliveryPending.store(false, ordering: .releasing)
        let (chunks, kick) = collectReceived()
        if let kick { notify(kick) }
        for chunk in chunks {
          if let receive { receive(chunk) } else { inputPair.continuation.yield(chunk) }
        }
      } while deliveryPending.load(ordering: .acquiring)
      deliverer.store(0, ordering: .releasing)
    }
  }

  /// Copies out every filled receive buffer and re-posts it; returns the bytes and whether
  /// to kick the receiveq.
  func collectReceived() -> ([[UInt8]], UInt32?) {
    var chunks: [[UInt8]] = []
    let kick = state.withLock { s -> UInt32? in
      guard s.running, s.brokenError == nil, let pool = s.pool else { return nil }
      do throws(VirtioError) {
        while true {
          while let used = try s.receiveQueue!.reclaim() {
            let offset = Int(used.token) * bufferSize
            if let bytes = try? pool.bytes(at: offset, count: Int(used.length)), !bytes.isEmpty {
              chunks.append(bytes)
              s.received += UInt64(bytes.count)
            }
            _ = try s.receiveQueue!.add(address: s.poolAddress + UInt64(offset),
                                        length: UInt32(bufferSize), isWritable: true,
                                        token: used.token)
          }
          let batch = s.receiveQueue!.finishBatch()
          if batch.idle { return batch.kick ? s.receiveNotifyID : nil }
        }
      } catch {
        s.brokenError = error
        log("serial receiveq broken: \(error)")
        return nil
      }
    }
    return (chunks, kick)
  }

  /// Copies as many bytes as free transmit buffers hold and offers them; returns how many
  /// were taken (0 when no buffer is free). Linux: `put_chars` / `__send_to_port`.
  public func write(_ bytes: [UInt8]) throws(VirtioError) -> Int {
    let result = try state.withLock { (s) throws(VirtioError) -> (Int, UInt32?) in
      guard s.running, let pool = s.pool else {
        throw VirtioError(.invalidState, "the serial port is not running")
      }
      if let e = s.brokenError { throw e }
      var taken = 0
      do throws(VirtioError) {
        while taken < bytes.count {
          let index: Int
          if s.freshTransmit < s.transmitCount {
            index = s.receiveCount + s.freshTransmit
            s.freshTransmit += 1
          } else if let used = try s.transmitQueue!.reclaim() {
            index = Int(used.token)
          } else {
            break
          }
          let n = min(bufferSize, bytes.count - taken)
          let offset = index * bufferSize
          do throws(SharedMemoryError) {
            try pool.write(bytes.span.extracting(taken..<taken + n), at: offset)
          } catch {
            throw VirtioError(.invalidConfiguration, "transmit buffer: \(error.message)")
          }
          _ = try s.transmitQueue!.add(address: s.poolAddress + UInt64(offset), length: UInt32(n),
                                       isWritable: false, token: UInt32(index))
          taken += n
        }
      } catch {
        s.brokenError = error
        throw error
      }
      s.sent += UInt64(taken)
      let kick = taken > 0 && s.transmitQueue!.kickPrepare()
      return (taken, kick ? s.transmitNotifyID : nil)
    }
    if let kick = result.1 { notify(kick) }
    return result.0
  }

  /// Writes every byte, waiting for transmit buffers as needed (up to `timeout` overall).
  public func write(_ bytes: [UInt8], timeout: Duration) async throws(VirtioError) {
    let deadline = ContinuousClock.now.advanced(by: timeout)
    var rest = bytes[...]
    while !rest.isEmpty {
      let n = try write(Array(rest))
      rest = rest.dropFirst(n)
      if rest.isEmpty { return }
      if n == 0 {
        guard ContinuousClock.now < deadline else {
          throw VirtioError(.noSpace, "no transmit buffer came free before the deadline")
        }
        guard await waitForTransmitBuffer(deadline: deadline) else {
          guard isRunning else {
            throw VirtioError(.invalidState, "the serial port was reset while waiting for a transmit buffer")
          }
          throw VirtioError(
            .noSpace, "no transmit buffer came free before the deadline (\(bytes.count - rest.count) of "
              + "\(bytes.count) bytes sent in \(timeout))")
        }
      }
    }
  }

  /// Enables tx-complete interrupts and waits for one (or the deadline, or a reset).
  func waitForTransmitBuffer(deadline: ContinuousClock.Instant) async -> Bool {
    let id = nextWaiter.add(1, ordering: .relaxed).newValue
    let timer = Task {
      try? await Task.sleep(until: deadline, clock: .continuous)
      if !Task.isCancelled { self.resumeWaiter(id, false) }
    }
    defer { timer.cancel() }  // woken early: the timer goes away at once
    return await withCheckedContinuation { (c: CheckedContinuation<Bool, Never>) in
      waiters.withLock { $0[id] = c }
      let ready = state.withLock { s -> Bool in
        guard s.running else { return true }
        return !s.transmitQueue!.enableCallbacks() || s.freshTransmit < s.transmitCount
      }
      if ready { resumeWaiter(id, true) }
      if ContinuousClock.now >= deadline { resumeWaiter(id, false) }  // the timer may have fired first
    }
  }

  func resumeWaiter(_ id: UInt64, _ value: Bool) {
    waiters.withLock { $0.removeValue(forKey: id) }?.resume(returning: value)
  }

  func wakeWriters() {
    let all = waiters.withLock { w in
      defer { w.removeAll() }
      return Array(w.values)
    }
    if all.isEmpty {
      state.withLock { s in if s.running { s.transmitQueue!.disableCallbacks() } }
    }
    for c in all { c.resume(returning: true) }
  }
}
