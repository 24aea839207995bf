import SharedMemory

/// The copy of a resource table in the remote's memory, where the host writes back what it
/// allocated and the virtio status, and the firmware reads them.
///
/// Offsets come from the parsed table, which was checked, and every write is still
/// bounds-checked by ``MemoryRegion``: a region smaller than the table throws.
public struct LoadedResourceTable: Sendable {
  public let table: ResourceTable
  /// Exactly the table's bytes in remote memory.
  public let region: MemoryRegion

  public init(table: ResourceTable, region: MemoryRegion) throws(FirmwareError) {
    guard region.count >= table.byteCount else {
      throw FirmwareError(
        .badResourceTable,
        "loaded table region of \(hex(region.count)) bytes is smaller than the table (\(hex(table.byteCount)))")
    }
    self.table = table
    self.region = region
  }

  private var order: ByteOrder { table.byteOrder }

  private func store<T: FixedWidthInteger>(_ value: T, _ offset: Int) throws(FirmwareError) {
    do { try region.store(value, at: offset, order: order) } catch {
      throw FirmwareError(.badResourceTable, "write-back at \(hex(offset)): \(error.message)")
    }
  }

  private func load<T: FixedWidthInteger>(_: T.Type, _ offset: Int) throws(FirmwareError) -> T {
    do { return try region.load(T.self, at: offset, order: order) } catch {
      throw FirmwareError(.badResourceTable, "read-back at \(hex(offset)): \(error.message)")
    }
  }

  private func require(_ entry: ResourceEntry, _ type: String) throws(FirmwareError) {
    guard entry.typeName == type, table.entries.indices.contains(entry.index),
      table.entries[entry.index] == entry
    else {
      throw FirmwareError(.badResourceTable, "entry \(entry.index) at \(hex(entry.offset)) is not a \(type) of this table")
    }
  }

  /// Writes the address and length the host chose. Linux: `rproc_alloc_carveout`.
  public func setCarveout(
    _ entry: ResourceEntry, deviceAddress: UInt32, physicalAddress: UInt32, length: UInt32
  ) throws(FirmwareError) {
    try require(entry, "carveout")
    try store(deviceAddress, entry.payloadOffset + WireLayout.Carveout.deviceAddress)
    try store(physicalAddress, entry.payloadOffset + WireLayout.Carveout.physicalAddress)
    try store(length, entry.payloadOffset + WireLayout.Carveout.length)
  }

  private func vringOffset(_ entry: ResourceEntry, _ ring: Int) throws(FirmwareError) -> Int {
    try require(entry, "vdev")
    guard case .virtioDevice(let device) = entry.kind, device.vrings.indices.contains(ring) else {
      throw FirmwareError(.badResourceTable, "entry \(entry.index) has no vring \(ring)")
    }
    return entry.payloadOffset + WireLayout.VirtioDevice.rings + WireLayout.Vring.size * ring
  }

  /// Writes a vring's address and notify id. Linux: `rproc_alloc_vring`.
  public func setVring(
    _ entry: ResourceEntry, ring: Int, deviceAddress: UInt32, physicalAddress: UInt32, notifyID: UInt32
  ) throws(FirmwareError) {
    let offset = try vringOffset(entry, ring)
    try store(deviceAddress, offset + WireLayout.Vring.deviceAddress)
    try store(notifyID, offset + WireLayout.Vring.notifyID)
    try store(physicalAddress, offset + WireLayout.Vring.physicalAddress)
  }

  /// Writes the vdev's own notify id. Linux: `rproc_handle_vdev`.
  public func setVirtioNotifyID(_ entry: ResourceEntry, _ id: UInt32) throws(FirmwareError) {
    try require(entry, "vdev")
    try store(id, entry.payloadOffset + WireLayout.VirtioDevice.notifyID)
  }

  /// Writes the features the host accepted. Linux: `rproc_virtio_finalize_features`.
  public func setGuestFeatures(_ entry: ResourceEntry, _ features: UInt32) throws(FirmwareError) {
    try require(entry, "vdev")
    try store(features, entry.payloadOffset + WireLayout.VirtioDevice.guestFeatures)
  }

  /// Writes the virtio status. Linux: `rproc_virtio_set_status` / `rproc_virtio_reset`.
  public func setVirtioStatus(_ entry: ResourceEntry, _ status: UInt8) throws(FirmwareError) {
    try require(entry, "vdev")
    try store(status, entry.payloadOffset + WireLayout.VirtioDevice.status)
  }

  /// Reads the virtio status as it is now in remote memory.
  public func virtioStatus(_ entry: ResourceEntry) throws(FirmwareError) -> UInt8 {
    try require(entry, "vdev")
    return try load(UInt8.self, entry.payloadOffset + WireLayout.VirtioDevice.status)
  }

  /// Parses the table as it is now in remote memory (the firmware may have changed it),
  /// with the same checks as the original.
  public func reparse(vendorHandler: VendorResourceHandler? = nil) throws(FirmwareError) -> ResourceTable {
    let bytes: [UInt8]
    do { bytes = try region.bytes(at: 0, count: table.byteCount) } catch {
      throw FirmwareError(.badResourceTable, "reading the loaded table: \(error.message)")
    }
    return try ResourceTable(bytes: bytes, byteOrder: order, vendorHandler: vendorHandler)
  }

  /// Puts back the bytes the firmware started with. Linux: `rproc_reset_rsc_table_on_detach`.
  public func restoreOriginal() throws(FirmwareError) {
    do { try region.write(table.bytes, at: 0) } catch {
      throw FirmwareError(.badResourceTable, "restoring the loaded table: \(error.message)")
    }
  }
}
