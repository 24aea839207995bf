import SharedMemory

/// Memory the remoteproc core allocated for one vring or buffer pool: its device address
/// (what the remote sees, written into the resource table) and the region behind it.
/// Linux: the `dma`/`va` pair of `rproc_alloc_vring` or `dma_alloc_coherent`.
public struct DeviceMemory: Sendable {
  /// The device address of the first byte.
  public var deviceAddress: UInt64
  /// The bytes.
  public var region: MemoryRegion

  public init(deviceAddress: UInt64, region: MemoryRegion) {
    self.deviceAddress = deviceAddress
    self.region = region
  }
}
