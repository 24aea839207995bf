/// Flag bits of the split ring, and Linux's `vring_need_event`.

/// Bits of `vring_desc.flags`. Wire: `VRING_DESC_F_*`.
public struct DescriptorFlags: OptionSet, Hashable, Sendable {
  public let rawValue: UInt16
  @inlinable public init(rawValue: UInt16) { self.rawValue = rawValue }
  // Computed and inlinable (not `static let`): a stored global from another module is
  // reached through a lazy-initialization accessor on every use of the hot path.
  /// The chain continues at `next`. Wire: `VRING_DESC_F_NEXT`.
  @inlinable public static var next: DescriptorFlags { DescriptorFlags(rawValue: 1) }
  /// The device writes this buffer (otherwise it reads it). Wire: `VRING_DESC_F_WRITE`.
  @inlinable public static var write: DescriptorFlags { DescriptorFlags(rawValue: 2) }
  /// The buffer is a table of descriptors. Wire: `VRING_DESC_F_INDIRECT` (not negotiated here).
  @inlinable public static var indirect: DescriptorFlags { DescriptorFlags(rawValue: 4) }
}

/// Wire: `VRING_AVAIL_F_NO_INTERRUPT`: the driver asks the device not to notify it.
@inlinable public var vringAvailNoInterrupt: UInt16 { 1 }
/// Wire: `VRING_USED_F_NO_NOTIFY`: the device asks the driver not to kick it.
@inlinable public var vringUsedNoNotify: UInt16 { 1 }

/// Whether moving an index from `old` to `new` crossed the peer's event index, so the peer
/// asked to be told. Linux: `vring_need_event(event_idx, new_idx, old)`, all arithmetic
/// modulo 2¹⁶.
@inlinable @inline(__always)
public func vringNeedsEvent(eventIndex: UInt16, new: UInt16, old: UInt16) -> Bool {
  (new &- eventIndex &- 1) < (new &- old)
}
