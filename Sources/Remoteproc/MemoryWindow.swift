import SharedMemory

/// A range of device addresses backed by host memory that a platform offers.
///
/// A window may be a pool where the core allocates carveouts, vrings and rpmsg buffers for
/// firmware that asks for `FW_RSC_ADDR_ANY` (or a fixed address inside it), or fixed device
/// memory (an SRAM, a mailbox page) that only firmware asking for its exact addresses gets.
public struct MemoryWindow: Sendable {
  /// For messages and `carveout_memories`.
  public var name: String
  /// The device address of the first byte (what the remote uses).
  public var deviceAddress: UInt64
  /// The physical address written back as `pa` (what Linux calls the DMA address).
  public var physicalAddress: UInt64
  /// The host memory behind it.
  public var region: MemoryRegion
  /// True when the core may place allocations here.
  public var isAllocationPool: Bool

  public init(
    name: String, deviceAddress: UInt64, physicalAddress: UInt64? = nil, region: MemoryRegion,
    isAllocationPool: Bool = true
  ) {
    self.name = name
    self.deviceAddress = deviceAddress
    self.physicalAddress = physicalAddress ?? deviceAddress
    self.region = region
    self.isAllocationPool = isAllocationPool
  }

  /// Bytes in the window.
  public var length: Int { region.count }

  /// The window's slice for `[da, da + length)`, or nil when it is not entirely inside.
  public func slice(deviceAddress da: UInt64, length: Int) -> MemoryRegion? {
    guard length >= 0, da >= deviceAddress else { return nil }
    let offset = da - deviceAddress
    guard offset <= UInt64(region.count), UInt64(length) <= UInt64(region.count) - offset else { return nil }
    return try? region.slice(at: Int(offset), length: length)
  }
}

/// The memory a platform offers, in device addresses. Linux: the platform's carveouts
/// (reserved memory) plus `da_to_va`.
public struct PlatformMemory: Sendable {
  public var windows: [MemoryWindow]

  public init(_ windows: [MemoryWindow]) {
    self.windows = windows
  }

  /// The memory backing `[da, da + length)`, if one window covers it all. Linux: `da_to_va`.
  public func translate(deviceAddress da: UInt64, length: Int) -> MemoryRegion? {
    for window in windows {
      if let region = window.slice(deviceAddress: da, length: length) { return region }
    }
    return nil
  }

  /// The window holding `da`, for the physical address of an allocation.
  func window(containing da: UInt64, length: Int) -> MemoryWindow? {
    windows.first { $0.slice(deviceAddress: da, length: length) != nil }
  }
}
