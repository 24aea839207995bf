/// One entry of a resource table, where it lives in the table, and what it asks for.
public struct ResourceEntry: Hashable, Sendable {
  /// Position in the table's `offset[]` array.
  public var index: Int
  /// Offset of the entry's 4-byte header (`struct fw_rsc_hdr`) from the start of the table.
  public var offset: Int
  /// Bytes the entry occupies, its header included.
  public var byteCount: Int
  public var kind: Kind

  /// Offset of the payload (the struct after the type word).
  public var payloadOffset: Int { offset + 4 }

  public enum Kind: Hashable, Sendable {
    /// Wire: `RSC_CARVEOUT`, `struct fw_rsc_carveout`.
    case carveout(MemoryResource)
    /// Wire: `RSC_DEVMEM`, `struct fw_rsc_devmem`.
    case deviceMemory(MemoryResource)
    /// Wire: `RSC_TRACE`, `struct fw_rsc_trace`.
    case trace(TraceResource)
    /// Wire: `RSC_VDEV`, `struct fw_rsc_vdev`.
    case virtioDevice(VirtioDeviceResource)
    /// Wire: types `RSC_VENDOR_START` (128) ... `RSC_VENDOR_END` (512).
    case vendor(VendorResource)
    /// Any other type: skipped with a warning, as Linux does.
    case unknown(type: UInt32)
  }

  /// The Linux name of the entry's type ("carveout", "devmem", "trace", "vdev", "vendor").
  public var typeName: String {
    switch kind {
    case .carveout: "carveout"
    case .deviceMemory: "devmem"
    case .trace: "trace"
    case .virtioDevice: "vdev"
    case .vendor: "vendor"
    case .unknown(let type): "unknown type \(type)"
    }
  }

  /// The wire type number. Wire: `fw_rsc_hdr.type`.
  public var typeNumber: UInt32 {
    switch kind {
    case .carveout: 0
    case .deviceMemory: 1
    case .trace: 2
    case .virtioDevice: 3
    case .vendor(let vendor): vendor.type
    case .unknown(let type): type
    }
  }
}

/// A carveout or device-memory request. Wire: `struct fw_rsc_carveout` / `fw_rsc_devmem`.
public struct MemoryResource: Hashable, Sendable {
  /// Wire: `da`. ``ResourceTable/anyAddress`` asks the host to choose.
  public var deviceAddress: UInt32
  /// Wire: `pa`.
  public var physicalAddress: UInt32
  /// Wire: `len`.
  public var length: UInt32
  /// IOMMU protection flags. Wire: `flags`.
  public var flags: UInt32
  /// Wire: `name`.
  public var name: String

  public init(deviceAddress: UInt32, physicalAddress: UInt32 = 0, length: UInt32, flags: UInt32 = 0, name: String) {
    self.deviceAddress = deviceAddress
    self.physicalAddress = physicalAddress
    self.length = length
    self.flags = flags
    self.name = name
  }
}

/// A trace buffer the firmware writes NUL-terminated text into. Wire: `struct fw_rsc_trace`.
public struct TraceResource: Hashable, Sendable {
  /// Wire: `da`.
  public var deviceAddress: UInt32
  /// Wire: `len`.
  public var length: UInt32
  /// Wire: `name`.
  public var name: String

  public init(deviceAddress: UInt32, length: UInt32, name: String) {
    self.deviceAddress = deviceAddress
    self.length = length
    self.name = name
  }
}

/// One vring of a virtio device. Wire: `struct fw_rsc_vdev_vring`.
public struct VringResource: Hashable, Sendable {
  /// Wire: `da`.
  public var deviceAddress: UInt32
  /// Alignment of the used ring from the start of the ring. Wire: `align`.
  public var alignment: UInt32
  /// Number of descriptors, a power of two. Wire: `num`.
  public var count: UInt32
  /// Wire: `notifyid`.
  public var notifyID: UInt32
  /// Wire: `pa`.
  public var physicalAddress: UInt32

  public init(deviceAddress: UInt32, alignment: UInt32, count: UInt32, notifyID: UInt32 = 0, physicalAddress: UInt32 = 0) {
    self.deviceAddress = deviceAddress
    self.alignment = alignment
    self.count = count
    self.notifyID = notifyID
    self.physicalAddress = physicalAddress
  }
}

/// A virtio device the firmware publishes. Wire: `struct fw_rsc_vdev`.
public struct VirtioDeviceResource: Hashable, Sendable {
  /// Virtio device id (7 rpmsg, 11 remoteproc serial, 3 console…). Wire: `id`.
  public var id: UInt32
  /// Wire: `notifyid`.
  public var notifyID: UInt32
  /// Features the firmware offers. Wire: `dfeatures`.
  public var deviceFeatures: UInt32
  /// Features the host accepted. Wire: `gfeatures`.
  public var guestFeatures: UInt32
  /// Bytes of config space after the vrings. Wire: `config_len`.
  public var configLength: UInt32
  /// Virtio status. Wire: `status`.
  public var status: UInt8
  /// Wire: `vring[num_of_vrings]`.
  public var vrings: [VringResource]
  /// The config space as the firmware provided it.
  public var config: [UInt8]

  public init(
    id: UInt32, notifyID: UInt32 = 0, deviceFeatures: UInt32, guestFeatures: UInt32 = 0, configLength: UInt32? = nil,
    status: UInt8 = 0, vrings: [VringResource], config: [UInt8] = []
  ) {
    self.id = id
    self.notifyID = notifyID
    self.deviceFeatures = deviceFeatures
    self.guestFeatures = guestFeatures
    self.configLength = configLength ?? UInt32(config.count)
    self.status = status
    self.vrings = vrings
    self.config = config
  }

  /// Bytes of the payload: 24, then 20 per vring, then the config space.
  public var payloadByteCount: Int { 24 + 20 * vrings.count + Int(configLength) }
}

/// A vendor-specific entry (types 128...512).
public struct VendorResource: Hashable, Sendable {
  /// Wire: `fw_rsc_hdr.type`.
  public var type: UInt32
  /// Bytes of payload the handler claimed; nil when no handler took the entry.
  public var payloadLength: Int?
  /// What the handler made of it, for display.
  public var summary: String

  public init(type: UInt32, payloadLength: Int?, summary: String) {
    self.type = type
    self.payloadLength = payloadLength
    self.summary = summary
  }
}

/// What a caller-supplied vendor handler made of a vendor entry.
/// Linux: `RSC_HANDLED` / `RSC_IGNORED` from `rproc_handle_rsc`.
public enum VendorResourceResult: Hashable, Sendable {
  /// The handler understood `length` bytes of payload.
  case handled(length: Int, summary: String)
  /// The handler does not know this type; the entry is skipped with a warning.
  case ignored
}

/// Handles vendor entries: receives the type and the bytes from the payload to the end of
/// the table; throws to refuse the table.
public typealias VendorResourceHandler =
  @Sendable (_ type: UInt32, _ payload: ArraySlice<UInt8>) throws(FirmwareError) -> VendorResourceResult
