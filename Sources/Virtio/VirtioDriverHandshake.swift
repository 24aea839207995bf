import SharedMemory

/// The host (driver) side of the virtio bring-up on one vdev entry, as a state machine that
/// only moves forward in Linux's order:
///
/// status 0 → ACKNOWLEDGE (1) → DRIVER (3) → `gfeatures` written → vrings zeroed, their `da`
/// (and `notifyid`) written → *the device driver posts its rx buffers* → DRIVER_OK (7) →
/// kick. remoteproc virtio is legacy, so FEATURES_OK is never set.
/// Linux: `register_virtio_device` + `virtio_dev_probe` + `rproc_virtio_find_vqs` +
/// `virtio_device_ready`.
public struct VirtioDriverHandshake: Sendable {
  /// How far the bring-up went.
  public enum Stage: Int, Comparable, Sendable {
    case idle, driverLoaded, featuresNegotiated, vringsReady, running, failed
    public static func < (a: Stage, b: Stage) -> Bool { a.rawValue < b.rawValue }
  }

  public let resource: VirtioDeviceEntry
  public private(set) var stage: Stage = .idle
  /// The features written to `gfeatures`.
  public private(set) var features: VirtioFeatures = []

  public init(resource: VirtioDeviceEntry) {
    self.resource = resource
  }

  private func require(_ expected: Stage, _ step: String) throws(VirtioError) {
    guard stage == expected else {
      throw VirtioError(.invalidState, "\(step) while the handshake is at \(stage), not \(expected)")
    }
  }

  /// Resets the device, then sets ACKNOWLEDGE and DRIVER. Linux: `virtio_reset_device`,
  /// `virtio_add_status(ACKNOWLEDGE)`, `virtio_add_status(DRIVER)`.
  public mutating func begin() throws(VirtioError) {
    guard stage == .idle || stage == .failed else {
      throw VirtioError(.invalidState, "begin while the handshake is at \(stage); reset first")
    }
    resource.status = []
    resource.status = .acknowledge
    resource.status = [.acknowledge, .driver]
    stage = .driverLoaded
  }

  /// Accepts the offered features that the driver supports, and writes them to `gfeatures`.
  /// Indirect descriptors are never accepted. Linux: `rproc_virtio_finalize_features`.
  @discardableResult
  public mutating func negotiate(supported: VirtioFeatures) throws(VirtioError) -> VirtioFeatures {
    try require(.driverLoaded, "feature negotiation")
    var accepted = resource.deviceFeatures.intersection(supported)
    accepted.remove(.indirectDescriptors)
    resource.driverFeatures = accepted
    features = accepted
    stage = .featuresNegotiated
    return accepted
  }

  /// Zeroes each vring's memory, writes its device address (and notify id) into the entry
  /// and returns a driver for it. `memory[i]` backs vring `i`.
  /// Linux: `rproc_alloc_vring` + `rp_find_vq`.
  public mutating func setUpVrings(
    _ memory: [DeviceMemory], notifyIDs: [UInt32]? = nil, callbacksEnabled: [Bool]? = nil
  ) throws(VirtioError) -> [VirtqueueDriver] {
    try require(.featuresNegotiated, "vring setup")
    guard memory.count == resource.vringCount else {
      throw VirtioError(.invalidArgument,
                        "\(memory.count) vring memories for a vdev with \(resource.vringCount) vrings")
    }
    if let notifyIDs, notifyIDs.count != memory.count {
      throw VirtioError(.invalidArgument, "\(notifyIDs.count) notify ids for \(memory.count) vrings")
    }
    var drivers: [VirtqueueDriver] = []
    for (i, m) in memory.enumerated() {
      let layout = try resource.vringLayout(i)
      guard m.deviceAddress <= UInt64(UInt32.max - 1) else {  // 0xFFFFFFFF is FW_RSC_ADDR_ANY
        throw VirtioError(.invalidConfiguration,
                          "vring \(i) da 0x\(String(m.deviceAddress, radix: 16)) does not fit "
                            + "the 32-bit resource table field")
      }
      let driver: VirtqueueDriver
      do {
        driver = try VirtqueueDriver(
          layout: layout, ring: m.region, byteOrder: resource.byteOrder,
          usesEventIndex: features.contains(.eventIndex),
          callbacksEnabled: callbacksEnabled?[i] ?? true)
      } catch {
        throw VirtioError(error.code, "vring \(i): \(error.message)")
      }
      try resource.setVringDeviceAddress(i, UInt32(m.deviceAddress))
      if let notifyIDs { try resource.setVringNotifyID(i, notifyIDs[i]) }
      drivers.append(driver)
    }
    stage = .vringsReady
    return drivers
  }

  /// Publishes DRIVER_OK (release: the rings, addresses and posted buffers are visible to a
  /// device that sees the status). Linux: `virtio_device_ready`. Kick after this.
  public mutating func finish() throws(VirtioError) {
    try require(.vringsReady, "DRIVER_OK")
    resource.status = [.acknowledge, .driver, .driverOK]
    stage = .running
  }

  /// Marks the device failed. Linux: `virtio_add_status(FAILED)` after a probe error.
  public mutating func fail() {
    resource.status = resource.status.union(.failed)
    stage = .failed
  }

  /// Resets the device: status back to 0, as on stop, crash or detach. Linux:
  /// `rproc_virtio_reset`. The rings may be set up again with ``begin()``.
  public mutating func reset() {
    resource.status = []
    stage = .idle
    features = []
  }
}
