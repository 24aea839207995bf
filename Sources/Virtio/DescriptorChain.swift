/// One descriptor as the device read it, already located in the address map.
public struct Descriptor: Hashable, Sendable {
  /// Wire: `vring_desc.addr` (a device address).
  public var address: UInt64
  /// Wire: `vring_desc.len`.
  public var length: UInt32
  /// True when the device may write it (`VRING_DESC_F_WRITE`).
  public var isWritable: Bool
  /// Where the bytes are: a window of the address map and an offset in it.
  public var location: DeviceAddressMap.Location

  @inlinable
  public init(address: UInt64, length: UInt32, isWritable: Bool, location: DeviceAddressMap.Location) {
    self.address = address
    self.length = length
    self.isWritable = isWritable
    self.location = location
  }
}

/// A chain the device took from the available ring, validated end to end: every index
/// below num, no loop, no `INDIRECT`, readable descriptors before writable ones, and every
/// buffer inside the address map. Linux (device side): what `vhost_get_vq_desc` returns.
public struct DescriptorChain: Hashable, Sendable {
  /// The head descriptor; give it back with ``VirtqueueDevice/returnUsed(head:length:)``.
  public var head: UInt16
  /// The number of descriptors in the chain.
  public var count: Int
  /// The first descriptor (all of the chain in the common one-buffer case).
  public var first: Descriptor
  /// Bytes the device may read (sum of the readable descriptors).
  public var readableLength: UInt64
  /// Bytes the device may write (sum of the writable descriptors).
  public var writableLength: UInt64

  @inlinable
  public init(head: UInt16, count: Int, first: Descriptor, readableLength: UInt64,
              writableLength: UInt64) {
    self.head = head
    self.count = count
    self.first = first
    self.readableLength = readableLength
    self.writableLength = writableLength
  }
}
