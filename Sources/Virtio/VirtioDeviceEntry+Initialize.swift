import SharedMemory

extension VirtioDeviceEntry {
  /// Bytes a vdev entry with `vrings` vrings and `configLength` bytes of config space takes
  /// (without the 4-byte entry type header).
  public static func byteCount(vrings: Int, configLength: Int) -> Int {
    headerSize + vrings * vringSize + configLength
  }

  /// Writes a fresh vdev entry the way firmware declares one in its resource table: status
  /// 0, `gfeatures` 0, every vring `da` = `FW_RSC_ADDR_ANY`, config space zeroed. For
  /// in-process remotes, loopback pairs and tests; real firmware brings its own table.
  public static func initialize(
    in region: MemoryRegion, byteOrder: ByteOrder, deviceID: UInt32,
    deviceFeatures: VirtioFeatures, vrings: [(alignment: UInt32, count: UInt32)],
    configLength: Int = 0
  ) throws(VirtioError) -> VirtioDeviceEntry {
    guard vrings.count <= maximumVrings, configLength >= 0, configLength <= 1 << 20 else {
      throw VirtioError(.invalidArgument,
                        "\(vrings.count) vrings, config_len \(configLength)")
    }
    let size = byteCount(vrings: vrings.count, configLength: configLength)
    do {
      try region.fill(0, at: 0, count: size)
      try region.store(deviceID, at: id, order: byteOrder)
      try region.store(deviceFeatures.rawValue, at: Self.deviceFeatures, order: byteOrder)
      try region.store(UInt32(configLength), at: configLen, order: byteOrder)
      try region.storeByte(UInt8(vrings.count), at: vringCountOffset)
      for (i, v) in vrings.enumerated() {
        let o = headerSize + i * vringSize
        try region.store(UInt32.max, at: o, order: byteOrder)  // FW_RSC_ADDR_ANY
        try region.store(v.alignment, at: o + 4, order: byteOrder)
        try region.store(v.count, at: o + 8, order: byteOrder)
      }
    } catch {
      throw VirtioError(error, "writing a vdev entry")
    }
    return try VirtioDeviceEntry(region: region, byteOrder: byteOrder)
  }
}
