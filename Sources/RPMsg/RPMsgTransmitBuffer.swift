import SharedMemory

/// A transmit buffer borrowed for zero-copy: fill the payload in place, then ``send(count:)``
/// or ``release()``, exactly once (the type is noncopyable, and dropping it releases it).
public struct RPMsgTransmitBuffer: ~Copyable, Sendable {
  let bus: RPMsgBus
  let slot: BufferSlot
  let region: MemoryRegion
  let epoch: UInt64
  /// The `src` the message will carry.
  public let source: EndpointAddress
  /// The default `dst`.
  public let destination: EndpointAddress
  /// Set once sent or released, so that `deinit` does nothing more.
  var finished = false

  init(bus: RPMsgBus, slot: BufferSlot, region: MemoryRegion, epoch: UInt64,
       source: EndpointAddress, destination: EndpointAddress) {
    self.bus = bus
    self.slot = slot
    self.region = region
    self.epoch = epoch
    self.source = source
    self.destination = destination
  }

  /// Payload bytes this buffer can carry (the MTU, unless the peer posted a smaller buffer).
  public var capacity: Int { slot.capacity - RPMsgWire.headerSize }

  /// Calls `body` with the whole payload area to fill in place.
  public func withPayload<R>(_ body: (inout MutableSpan<UInt8>) -> R) -> R {
    do {
      return try region.withMutableBytes(
        at: slot.offset + RPMsgWire.headerSize, count: capacity, body)
    } catch {
      var empty = [UInt8]()
      var span = empty.mutableSpan
      return body(&span)
    }
  }

  /// Sends the first `count` payload bytes to `destination` (default: the endpoint's).
  /// The buffer is consumed even when this throws.
  public consuming func send(count: Int, to destination: EndpointAddress? = nil) throws(RPMsgError) {
    finished = true
    try bus.sendBorrowed(slot, epoch: epoch, count: count, source: source,
                         destination: destination ?? self.destination)
  }

  /// Gives the buffer back unsent.
  public consuming func release() {
    finished = true
    bus.returnBorrowed(slot, epoch: epoch)
  }

  deinit {
    if !finished { bus.returnBorrowed(slot, epoch: epoch) }
  }
}
