/// One buffer of a chain the driver offers: a device address range, read or written by the
/// device. Wire: one `struct vring_desc`.
public struct VirtqueueBuffer: Hashable, Sendable {
  /// The buffer's device address. Wire: `vring_desc.addr`.
  public var address: UInt64
  /// Its length in bytes. Wire: `vring_desc.len`.
  public var length: UInt32
  /// True when the device writes it (`VRING_DESC_F_WRITE`), false when it reads it.
  public var isWritable: Bool

  public init(address: UInt64, length: UInt32, isWritable: Bool) {
    self.address = address
    self.length = length
    self.isWritable = isWritable
  }
}

/// A chain the device gave back. Linux: the return of `virtqueue_get_buf`.
public struct UsedBuffer: Hashable, Sendable {
  /// The chain's head descriptor. Wire: `vring_used_elem.id`.
  public var head: UInt16
  /// Bytes the device wrote. Wire: `vring_used_elem.len` (checked against the chain).
  public var length: UInt32
  /// The value the driver attached when it added the chain. Linux: the `data` token.
  public var token: UInt32

  @inlinable
  public init(head: UInt16, length: UInt32, token: UInt32) {
    self.head = head
    self.length = length
    self.token = token
  }
}
