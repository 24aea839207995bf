extension EmulatedMachine {
  /// A range of guest-physical memory backed by host memory, shared zero-copy with the host.
  public struct Window: Hashable, Sendable {
    /// What the remoteproc core may put in a window.
    public struct Usage: OptionSet, Hashable, Sendable {
      public let rawValue: Int
      public init(rawValue: Int) { self.rawValue = rawValue }
      /// ELF segments of the firmware land here (Linux: the `da`s of `PT_LOAD` segments).
      public static let firmware = Usage(rawValue: 1)
      /// Carveouts, vrings and vdev buffers may be allocated here
      /// (Linux: `rproc_alloc_carveout` for entries with `FW_RSC_ADDR_ANY`).
      public static let carveouts = Usage(rawValue: 2)
    }

    /// A short name for messages and docs ("firmware", "carveouts").
    public var name: String
    /// Where the window sits in the guest's physical address space.
    public var physicalAddress: UInt64
    /// The address the firmware uses for the start of the window (its primary device address).
    /// Carveouts allocated here get device addresses from this base.
    public var deviceAddress: UInt64
    /// Bytes; a multiple of 4 KiB.
    public var size: Int
    public var usage: Usage

    public init(
      name: String, physicalAddress: UInt64, deviceAddress: UInt64, size: Int, usage: Usage
    ) {
      self.name = name
      self.physicalAddress = physicalAddress
      self.deviceAddress = deviceAddress
      self.size = size
      self.usage = usage
    }

    /// True when `[address, address + length)` lies inside the window's device addresses.
    func containsDevice(_ address: UInt64, length: Int) -> Bool {
      length >= 0 && address >= deviceAddress
        && address - deviceAddress <= UInt64(size)
        && UInt64(size) - (address - deviceAddress) >= UInt64(length)
    }
  }

  /// A second device-address view of physical memory, such as MIPS kseg0 and kseg1.
  public struct AddressAlias: Hashable, Sendable {
    public var name: String
    public var deviceAddress: UInt64
    public var physicalAddress: UInt64
    public var size: UInt64

    public init(name: String, deviceAddress: UInt64, physicalAddress: UInt64, size: UInt64) {
      self.name = name
      self.deviceAddress = deviceAddress
      self.physicalAddress = physicalAddress
      self.size = size
    }
  }
}
