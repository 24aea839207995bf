import SharedMemory

/// The device side of a split virtqueue: it takes the buffers the driver offers and gives
/// them back used. OpenAMP: `virtqueue_get_available_buffer`/`virtqueue_add_consumed_buffer`;
/// Linux vhost: `vhost_get_vq_desc`/`vhost_add_used`.
///
/// A remote processor is the device of its vrings. The device owns the used ring and
/// `avail_event`; it reads the descriptor table, the available ring and `used_event`,
/// written by the driver, and checks all of it: an available index more than num ahead, a
/// head ≥ num or still held, a `next` ≥ num, a chain longer than num (a loop), `INDIRECT`,
/// a readable buffer after a writable one, or an address outside the map breaks the queue.
///
/// A value type; keep exactly one copy per ring (typically inside a `Mutex`).
public struct VirtqueueDevice: Sendable {
  public let layout: VringLayout
  public let ring: MemoryRegion
  public let byteOrder: ByteOrder
  public let usesEventIndex: Bool
  /// Translates descriptor addresses.
  public let addressMap: DeviceAddressMap
  /// The same memory with the geometry proven once: the hot paths' accesses.
  @usableFromInline let view: SplitRingView

  // Device-private state.
  /// Linux vhost: `last_avail_idx`.
  @usableFromInline var lastAvail: UInt16
  /// The last `avail.idx` read and checked (at most num past `lastAvail`); read again only
  /// when `lastAvail` reaches it. Linux vhost: `avail_idx`.
  @usableFromInline var availSeen: UInt16
  /// The used index we published last.
  @usableFromInline var usedShadow: UInt16
  /// Chains returned since the last ``shouldNotify()``.
  @usableFromInline var added: UInt16
  /// Per head: total bytes of the chain while we hold it, -1 when not held.
  @usableFromInline var held: [Int64]
  /// Chains taken and not yet returned.
  public var heldCount: Int { _heldCount }
  @usableFromInline var _heldCount: Int
  @usableFromInline var notificationsEnabled: Bool
  public internal(set) var brokenError: VirtioError? {
    didSet { broken = brokenError != nil }
  }
  /// `brokenError != nil`, as a plain flag for the hot paths (no copy of the error).
  @usableFromInline var broken = false

  /// Attaches to a ring the driver set up. Reads nothing yet; indices start at 0, as after
  /// the driver zeroed the ring.
  public init(
    layout: VringLayout, ring: MemoryRegion, byteOrder: ByteOrder, usesEventIndex: Bool,
    addressMap: DeviceAddressMap
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
    self.addressMap = addressMap
    lastAvail = 0
    availSeen = 0
    usedShadow = 0
    added = 0
    held = Array(repeating: -1, count: layout.count)
    _heldCount = 0
    notificationsEnabled = true
  }

  public var isBroken: Bool { brokenError != nil }

  @usableFromInline
  mutating func broke(_ code: VirtioError.Code, _ message: String) -> VirtioError {
    if brokenError == nil { brokenError = VirtioError(code, message) }
    return brokenError!
  }

  @usableFromInline
  mutating func broke(_ error: SharedMemoryError) -> VirtioError {
    broke(.brokenQueue, "ring access failed: \(error.message)")
  }

  // MARK: Taking chains

  /// Takes the next chain the driver offered, or nil when there is none.
  @inlinable @inline(__always)
  public mutating func takeAvailable() throws(VirtioError) -> DescriptorChain? {
    if broken { throw brokenError! }
    if lastAvail == availSeen {
      // avail.idx is driver-owned: acquire, so the slots and descriptors it covers are
      // published.
      let availIndex = view.loadAvailIndex()
      if availIndex == lastAvail { return nil }
      guard Int(availIndex &- lastAvail) <= layout.count else {
        throw availIndexRanAhead(availIndex)
      }
      availSeen = availIndex
    }
    let head = view.availRing(lastAvail)
    guard Int(head) < layout.count else { throw headOutOfRange(head) }
    guard held[Int(head)] < 0 else { throw headStillHeld(head) }
    let chain = try walk(head)
    held[Int(head)] = Int64(chain.readableLength &+ chain.writableLength)
    _heldCount &+= 1
    lastAvail &+= 1
    return chain
  }

  /// Reads and checks the chain starting at `head` (< num): one descriptor without `NEXT`
  /// (the common case) here, longer chains in ``walkChain(_:)``.
  @inlinable @inline(__always)
  mutating func walk(_ head: UInt16) throws(VirtioError) -> DescriptorChain {
    let (address, length, flags, _) = view.descriptor(head)
    guard flags & (DescriptorFlags.next.rawValue | DescriptorFlags.indirect.rawValue) == 0 else {
      return try walkChain(head)
    }
    guard let location = addressMap.locate(address, length: Int(length)) else {
      throw unmapped(head, address, length)
    }
    let isWritable = flags & DescriptorFlags.write.rawValue != 0
    return DescriptorChain(
      head: head, count: 1,
      first: Descriptor(address: address, length: length, isWritable: isWritable,
                        location: location),
      readableLength: isWritable ? 0 : UInt64(length),
      writableLength: isWritable ? UInt64(length) : 0)
  }

  /// Reads and checks a chain of any length starting at `head` (< num).
  @usableFromInline
  mutating func walkChain(_ head: UInt16) throws(VirtioError) -> DescriptorChain {
    var index = head
    var count = 0
    var readable: UInt64 = 0
    var writable: UInt64 = 0
    var first: Descriptor? = nil
    while true {
      let (address, length, flags, next) = view.descriptor(index)
      count &+= 1
      guard flags & DescriptorFlags.indirect.rawValue == 0 else {
        throw badDescriptor(index, "has INDIRECT, which was not negotiated")
      }
      let isWritable = flags & DescriptorFlags.write.rawValue != 0
      guard let location = addressMap.locate(address, length: Int(length)) else {
        throw unmapped(index, address, length)
      }
      if isWritable {
        writable &+= UInt64(length)
      } else {
        guard writable == 0 else {
          throw badDescriptor(index, "is device-readable after a writable descriptor")
        }
        readable &+= UInt64(length)
      }
      if first == nil {
        first = Descriptor(address: address, length: length, isWritable: isWritable,
                           location: location)
      }
      guard flags & DescriptorFlags.next.rawValue != 0 else { break }
      guard Int(next) < layout.count else {
        throw badDescriptor(index, "has next \(next) ≥ ring size \(layout.count)")
      }
      guard count < layout.count else { throw chainLoops(head) }
      index = next
    }
    return DescriptorChain(head: head, count: count, first: first!, readableLength: readable,
                           writableLength: writable)
  }

  /// Reads descriptor `index` (driver-owned: any value may be there).
  @inlinable @inline(__always)
  func readDescriptor(
    _ index: UInt16
  ) -> (address: UInt64, length: UInt32, flags: UInt16, next: UInt16) {
    view.descriptor(index)
  }

  /// Every descriptor of a chain we hold, read again and checked again (the driver may have
  /// changed the table since; nothing is trusted twice).
  public mutating func descriptors(of chain: DescriptorChain) throws(VirtioError) -> [Descriptor] {
    if broken { throw brokenError! }
    guard Int(chain.head) < layout.count, held[Int(chain.head)] >= 0 else {
      throw VirtioError(.invalidArgument, "head \(chain.head) is not held by the device")
    }
    var result: [Descriptor] = []
    var index = chain.head
    while true {
      let (address, length, flags, next) = readDescriptor(index)
      guard flags & DescriptorFlags.indirect.rawValue == 0 else {
        throw badDescriptor(index, "has INDIRECT, which was not negotiated")
      }
      guard let location = addressMap.locate(address, length: Int(length)) else {
        throw unmapped(index, address, length)
      }
      result.append(Descriptor(address: address, length: length,
                               isWritable: flags & DescriptorFlags.write.rawValue != 0,
                               location: location))
      guard flags & DescriptorFlags.next.rawValue != 0 else { break }
      guard Int(next) < layout.count else {
        throw badDescriptor(index, "has next \(next) ≥ ring size \(layout.count)")
      }
      guard result.count < layout.count else { throw chainLoops(chain.head) }
      index = next
    }
    return result
  }

  @usableFromInline @inline(never)
  mutating func availIndexRanAhead(_ availIndex: UInt16) -> VirtioError {
    broke(.brokenQueue,
          "avail idx \(availIndex) is \(availIndex &- lastAvail) ahead of last seen "
            + "\(lastAvail), more than ring size \(layout.count)")
  }

  @usableFromInline @inline(never)
  mutating func headOutOfRange(_ head: UInt16) -> VirtioError {
    broke(.brokenQueue,
          "avail ring[\(lastAvail & layout.mask)] head \(head) ≥ ring size \(layout.count)")
  }

  @usableFromInline @inline(never)
  mutating func headStillHeld(_ head: UInt16) -> VirtioError {
    broke(.brokenQueue,
          "avail ring[\(lastAvail & layout.mask)] offers head \(head), which the device still holds")
  }

  @usableFromInline @inline(never)
  mutating func badDescriptor(_ index: UInt16, _ what: String) -> VirtioError {
    broke(.brokenQueue, "descriptor \(index) \(what)")
  }

  @usableFromInline @inline(never)
  mutating func chainLoops(_ head: UInt16) -> VirtioError {
    broke(.brokenQueue, "chain from head \(head) is longer than ring size \(layout.count) (a loop)")
  }

  @usableFromInline @inline(never)
  mutating func unmapped(_ index: UInt16, _ address: UInt64, _ length: UInt32) -> VirtioError {
    broke(.addressNotMapped,
          "descriptor \(index) addr 0x\(String(address, radix: 16)) len \(length) is outside "
            + "the \(addressMap.windows.count) mapped window(s)")
  }
}
