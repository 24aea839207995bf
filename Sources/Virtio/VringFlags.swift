/// Flag bits of the split ring, and Linux's `vring_need_event`.

/// Bits of `vring_desc.flags`. Wire: `VRING_DESC_F_*`.
public struct DescriptorFlags: OptionSet, Hashable, Sendable {
  public let rawValue: UInt16
  public init(rawValue: UInt16) { self.rawValue = rawValue }
  /// The chain continues at `next`. Wire: `VRING_DESC_F_NEXT`.
  public static let next = DescriptorFlags(rawValue: 1)
  /// The device writes this buffer (otherwise it reads it). Wire: `VRING_DESC_F_WRITE`.
  public static let write = DescriptorFlags(rawValue: 2)
  /// The buffer is a table of descriptors. Wire: `VRING_DESC_F_INDIRECT` (not negotiated here).
  public static let indirect = DescriptorFlags(rawValue: 4)
}

/// Wire: `VRING_AVAIL_F_NO_INTERRUPT`: the driver asks the device not to notify it.
public let vringAvailNoInterrupt: UInt16 = 1
/// Wire: `VRING_USED_F_NO_NOTIFY`: the device asks the driver not to kick it.
public let vringUsedNoNotify: UInt16 = 1

/// Whether moving an index from `old` to `new` crossed the peer's event index, so the peer
/// asked to be told. Linux: `vring_need_event(event_idx, new_idx, old)`, all arithmetic
/// modulo 2¹⁶.
@inlinable @inline(__always)
public func vringNeedsEvent(eventIndex: UInt16, new: UInt16, old: UInt16) -> Bool {
  (new &- eventIndex &- 1) < (new &- old)
}
