/// Where each part of a legacy split virtqueue lies, from the start of the ring.
///
/// Wire: `struct vring` set up by Linux `vring_init(vr, num, p, align)`:
/// descriptors (`16·num` bytes) at 0, the available ring (`flags, idx, ring[num],
/// used_event`) right after them, and the used ring (`flags, idx, {id, len}[num],
/// avail_event`) at the next multiple of `align`. ``byteCount`` equals `vring_size(num, align)`.
///
/// Ownership of the fields, which every accessor below repeats:
/// - descriptors, `avail.flags`, `avail.idx`, `avail.ring`, `used_event`: written by the
///   *driver* (the host for remoteproc), read by the device.
/// - `used.flags`, `used.idx`, `used.ring`, `avail_event`: written by the *device*
///   (the remote), read by the driver.
public struct VringLayout: Hashable, Sendable {
  /// The number of descriptors, a power of two in 1...32768. Wire: `num`.
  public let count: Int
  /// The alignment of the used ring from the start of the ring, a power of two.
  /// Wire: `fw_rsc_vdev_vring.align` (4096 for remoteproc firmware).
  public let alignment: Int
  /// `count - 1`: ring slots are free-running indices masked by this.
  public let mask: UInt16
  /// Offset of `used.flags`. Linux: `vring.used`.
  public let usedOffset: Int

  /// The largest ring the 16-bit indices allow (virtio 1.x: "Queue Size ≤ 32768").
  public static let maximumCount = 32768

  public init(count: Int, alignment: Int) throws(VirtioError) {
    guard count >= 1, count <= Self.maximumCount, count & (count - 1) == 0 else {
      throw VirtioError(.invalidConfiguration,
                        "vring num \(count) is not a power of two in 1...\(Self.maximumCount)")
    }
    guard alignment >= 1, alignment <= 1 << 30, alignment & (alignment - 1) == 0 else {
      throw VirtioError(.invalidConfiguration, "vring align \(alignment) is not a power of two")
    }
    // Used elements are read as u32, the used index with acquire: 4-byte alignment at least.
    guard alignment >= 4 else {
      throw VirtioError(.invalidConfiguration, "vring align \(alignment) is smaller than 4")
    }
    self.count = count
    self.alignment = alignment
    self.mask = UInt16(count - 1)
    let availEnd = 16 * count + 2 * (3 + count)
    self.usedOffset = (availEnd + alignment - 1) & ~(alignment - 1)
  }

  /// Bytes the ring occupies. Linux: `vring_size(num, align)`.
  public var byteCount: Int { usedOffset + 6 + 8 * count }

  // MARK: Descriptor table (driver writes, device reads)

  /// Offset of descriptor `index`. Wire: `struct vring_desc` (16 bytes).
  @inlinable public func descriptor(_ index: UInt16) -> Int { 16 &* Int(index) }
  /// Offsets of the fields inside a descriptor (computed: no lazy global on the hot path).
  @inlinable public static var descriptorAddress: Int { 0 }
  @inlinable public static var descriptorLength: Int { 8 }
  @inlinable public static var descriptorFlags: Int { 12 }
  @inlinable public static var descriptorNext: Int { 14 }

  // MARK: Available ring (driver writes, device reads)

  /// Offset of `avail.flags` (driver-owned).
  @inlinable public var availFlags: Int { 16 &* count }
  /// Offset of `avail.idx` (driver-owned, release-stored).
  @inlinable public var availIndex: Int { 16 &* count &+ 2 }
  /// Offset of `avail.ring[slot & mask]` (driver-owned).
  @inlinable public func availRing(_ slot: UInt16) -> Int {
    16 &* count &+ 4 &+ 2 &* Int(slot & mask)
  }
  /// Offset of `used_event` = `avail.ring[num]` (driver-owned; only with EVENT_IDX).
  @inlinable public var usedEvent: Int { 16 &* count &+ 4 &+ 2 &* count }

  // MARK: Used ring (device writes, driver reads)

  /// Offset of `used.flags` (device-owned).
  @inlinable public var usedFlags: Int { usedOffset }
  /// Offset of `used.idx` (device-owned, release-stored).
  @inlinable public var usedIndex: Int { usedOffset &+ 2 }
  /// Offset of `used.ring[slot & mask].id` (device-owned); `len` follows at + 4.
  @inlinable public func usedRing(_ slot: UInt16) -> Int { usedOffset &+ 4 &+ 8 &* Int(slot & mask) }
  /// Offset of `avail_event` = `used.ring[num]` (device-owned; only with EVENT_IDX).
  @inlinable public var availEvent: Int { usedOffset &+ 4 &+ 8 &* count }
}
