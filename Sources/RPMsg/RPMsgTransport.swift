import SharedMemory
import Virtio

/// One rpmsg buffer: where it is in the address map and how many bytes it holds.
@usableFromInline
struct BufferSlot: Sendable {
  /// Window of the bus's address map.
  @usableFromInline var window: Int
  /// Offset of the buffer (its header) in that window's region.
  @usableFromInline var offset: Int
  /// Usable bytes, header included (at most 512).
  @usableFromInline var capacity: Int
  /// Host: the pool buffer index. Remote: the chain head.
  @usableFromInline var token: UInt32
  /// Remote receive: the length to return in the used element.
  @usableFromInline var returnLength: UInt32

  @inlinable
  init(window: Int, offset: Int, capacity: Int, token: UInt32, returnLength: UInt32 = 0) {
    self.window = window
    self.offset = offset
    self.capacity = capacity
    self.token = token
    self.returnLength = returnLength
  }
}

/// Host transmit path: buffers of the pool's second half, offered on vring 1.
/// Linux: `get_a_tx_buf` + `virtqueue_add_outbuf`.
@usableFromInline
struct HostTransmitter: Sendable {
  @usableFromInline var queue: VirtqueueDriver
  /// Pool buffer index of the first transmit buffer (= receive buffer count).
  @usableFromInline let first: Int
  /// Usable transmit buffers: half the pool, at most the vring's size.
  @usableFromInline let count: Int
  /// Never-used buffers handed out so far. Linux: `last_sbuf`.
  @usableFromInline var fresh: Int
  /// Buffers borrowed for zero-copy and released unsent.
  @usableFromInline var spare: [UInt32]
  @usableFromInline let poolAddress: UInt64
  /// The pool (window 0 of the bus's map), kept here for the fused send.
  @usableFromInline let pool: MemoryRegion

  init(queue: VirtqueueDriver, first: Int, count: Int, poolAddress: UInt64, pool: MemoryRegion) {
    self.queue = queue
    self.first = first
    self.count = count
    self.fresh = 0
    self.spare = []
    self.spare.reserveCapacity(count)
    self.poolAddress = poolAddress
    self.pool = pool
  }

  /// The whole send in one place (the common path): take a buffer, write the header and
  /// payload, offer it, decide on the kick. Returns nil when no buffer is free, else "kick".
  @inline(__always)
  mutating func send(
    source: UInt32, destination: UInt32, payload: Span<UInt8>, order: ByteOrder
  ) throws(RPMsgError) -> Bool? {
    let index: UInt32
    do throws(VirtioError) {
      if !spare.isEmpty {
        index = spare.removeLast()
      } else if fresh < count {
        index = UInt32(first &+ fresh)
        fresh &+= 1
      } else if let used = try queue.reclaim() {
        index = used.token
      } else {
        return nil
      }
    } catch {
      throw RPMsgError(error)
    }
    let offset = Int(index) &* RPMsgWire.bufferSize
    do throws(SharedMemoryError) {
      try RPMsgWire.writeMessage(into: pool, at: offset, source: source,
                                 destination: destination, payload: payload, order: order)
    } catch {
      spare.append(index)
      throw RPMsgError(.transport, "writing a message: \(error.message)")
    }
    do throws(VirtioError) {
      _ = try queue.add(address: poolAddress &+ UInt64(offset),
                        length: UInt32(payload.count &+ RPMsgWire.headerSize),
                        isWritable: false, token: index)
    } catch {
      throw RPMsgError(error)
    }
    return queue.kickPrepare()
  }

  @inlinable
  func slot(_ index: UInt32) -> BufferSlot {
    BufferSlot(window: 0, offset: Int(index) &* RPMsgWire.bufferSize,
               capacity: RPMsgWire.bufferSize, token: index)
  }

  /// A free transmit buffer, or nil. Spares first, then fresh ones, then reclaimed ones.
  @inlinable
  mutating func acquire() throws(VirtioError) -> BufferSlot? {
    if let index = spare.popLast() { return slot(index) }
    if fresh < count {
      let index = UInt32(first &+ fresh)
      fresh &+= 1
      return slot(index)
    }
    guard let used = try queue.reclaim() else { return nil }
    return slot(used.token)
  }

  /// Offers a filled buffer of `length` bytes (header included); returns "kick".
  @inlinable
  mutating func submit(_ slot: BufferSlot, length: Int) throws(VirtioError) -> Bool {
    _ = try queue.add(address: poolAddress &+ UInt64(slot.offset), length: UInt32(length),
                      isWritable: false, token: slot.token)
    return queue.kickPrepare()
  }

  mutating func giveBack(_ slot: BufferSlot) { spare.append(slot.token) }

  var hasFree: Bool { !spare.isEmpty || fresh < count || queue.hasUsed() }
}

/// Host receive path: the pool's first half, posted writable on vring 0.
/// Linux: `rpmsg_recv_done` + `rpmsg_recv_single`.
@usableFromInline
struct HostReceiver: Sendable {
  @usableFromInline var queue: VirtqueueDriver
  @usableFromInline let count: Int
  @usableFromInline let poolAddress: UInt64

  /// Posts buffer `index` (again). Linux: `virtqueue_add_inbuf(rvq, …)`.
  @inlinable
  mutating func post(_ index: UInt32) throws(VirtioError) {
    _ = try queue.add(address: poolAddress &+ UInt64(Int(index) &* RPMsgWire.bufferSize),
                      length: UInt32(RPMsgWire.bufferSize), isWritable: true, token: index)
  }

  /// Posts buffer `index` again without publishing it yet (see ``publishIfDue()``).
  @inlinable
  mutating func postUnpublished(_ index: UInt32) throws(VirtioError) {
    try queue.addUnpublished(address: poolAddress &+ UInt64(Int(index) &* RPMsgWire.bufferSize),
                             length: UInt32(RPMsgWire.bufferSize), isWritable: true, token: index)
  }

  /// Publishes the buffers posted unpublished once there are 16 of them (fewer for a ring
  /// of less than 128), or once fewer than half the buffers are left to the remote: the
  /// remote, which reads `avail.idx` for each message it sends, then finds the line in its
  /// cache 15 times out of 16 instead of taking it back from the host each time.
  @inlinable
  mutating func publishIfDue() {
    let waiting = queue.unpublishedCount
    guard waiting > 0 else { return }
    if waiting >= max(1, min(16, count / 8)) || queue.publishedInFlight < count / 2 {
      queue.publishAvailable()
    }
  }
}

/// Remote transmit path: the host's receive buffers, taken from vring 0's available ring.
/// OpenAMP: `rpmsg_virtio_get_tx_buffer` (device role).
@usableFromInline
struct RemoteTransmitter: Sendable {
  @usableFromInline var queue: VirtqueueDevice
  /// Buffers taken and released unsent; reused before taking new ones.
  @usableFromInline var spare: [BufferSlot]
  /// Chains that could not carry a message (not writable, shorter than a header).
  @usableFromInline var unusable: UInt64 = 0

  init(queue: VirtqueueDevice) {
    self.queue = queue
    self.spare = []
    self.spare.reserveCapacity(queue.layout.count)
  }

  /// The whole send in one place: take the host's next receive buffer, write the header and
  /// payload into it, return it used, decide on the notification. Returns nil when no
  /// buffer is free, else "notify". A buffer too small for this payload goes back to the
  /// spares and the send fails.
  @inline(__always)
  mutating func send(
    source: UInt32, destination: UInt32, payload: Span<UInt8>, order: ByteOrder
  ) throws(RPMsgError) -> Bool? {
    let slot: BufferSlot
    do throws(VirtioError) {
      guard let s = try acquire() else { return nil }
      slot = s
    } catch {
      throw RPMsgError(error)
    }
    let length = payload.count &+ RPMsgWire.headerSize
    guard length <= slot.capacity else {
      spare.append(slot)
      throw RPMsgBus.tooLong(payload.count, slot.capacity &- RPMsgWire.headerSize)
    }
    do throws(SharedMemoryError) {
      try RPMsgWire.writeMessage(
        into: queue.addressMap.windows[slot.window].region, at: slot.offset, source: source,
        destination: destination, payload: payload, order: order)
    } catch {
      spare.append(slot)
      throw RPMsgError(.transport, "writing a message: \(error.message)")
    }
    do throws(VirtioError) {
      try queue.returnUsed(head: UInt16(truncatingIfNeeded: slot.token), length: UInt32(length))
    } catch {
      throw RPMsgError(error)
    }
    return queue.shouldNotify()
  }

  @inlinable
  mutating func acquire() throws(VirtioError) -> BufferSlot? {
    if let slot = spare.popLast() { return slot }
    while let chain = try queue.takeAvailable() {
      let d = chain.first
      guard d.isWritable, d.length >= UInt32(RPMsgWire.headerSize) else {
        unusable &+= 1
        try queue.returnUsed(head: chain.head, length: 0)
        continue
      }
      return BufferSlot(window: d.location.window, offset: d.location.offset,
                        capacity: min(Int(d.length), RPMsgWire.bufferSize),
                        token: UInt32(chain.head))
    }
    return nil
  }

  /// Gives a filled buffer back used; returns "notify".
  @inlinable
  mutating func submit(_ slot: BufferSlot, length: Int) throws(VirtioError) -> Bool {
    try queue.returnUsed(head: UInt16(truncatingIfNeeded: slot.token), length: UInt32(length))
    return queue.shouldNotify()
  }

  mutating func giveBack(_ slot: BufferSlot) { spare.append(slot) }

  var hasFree: Bool { !spare.isEmpty || queue.hasAvailable() }
}

/// Remote receive path: the host's transmit buffers, taken from vring 1 (the receive loop
/// takes them itself, see `RPMsgBus.drain`; a chain whose first descriptor is writable is
/// dropped as a bad buffer). OpenAMP: `rpmsg_virtio_get_rx_buffer` (device role).
@usableFromInline
struct RemoteReceiver: Sendable {
  @usableFromInline var queue: VirtqueueDevice

  @inlinable
  mutating func recycle(_ slot: BufferSlot) throws(VirtioError) {
    try queue.returnUsed(head: UInt16(truncatingIfNeeded: slot.token), length: slot.returnLength)
  }
}
