import SharedMemory

/// The remote (device) side of the virtio bring-up on one vdev entry: it waits for the
/// host's DRIVER_OK and only then reads the vring addresses and negotiated features.
/// OpenAMP: `rproc_virtio_wait_remote_ready` + `rproc_virtio_create_virtqueue` (device role).
public struct VirtioDeviceHandshake: Sendable {
  public let resource: VirtioDeviceEntry

  public init(resource: VirtioDeviceEntry) {
    self.resource = resource
  }

  /// True once the host published DRIVER_OK. Throws when it marked the device FAILED.
  public func driverIsReady() throws(VirtioError) -> Bool {
    let status = resource.status
    if status.contains(.failed) {
      throw VirtioError(.invalidState, "the driver set FAILED (status \(status))")
    }
    return status.contains(.driverOK)
  }

  /// The features the host accepted. They must be a subset of what the device offered.
  public func negotiatedFeatures() throws(VirtioError) -> VirtioFeatures {
    let offered = resource.deviceFeatures
    let accepted = resource.driverFeatures
    guard accepted.isSubset(of: offered) else {
      throw VirtioError(.invalidState,
                        "gfeatures \(accepted) include bits the device never offered (\(offered))")
    }
    return accepted
  }

  /// Attaches to the vrings the host set up, translating each `da` through `addressMap`.
  /// Only valid after DRIVER_OK (before it, the addresses may not be written yet).
  public func vrings(addressMap: DeviceAddressMap) throws(VirtioError) -> [VirtqueueDevice] {
    guard try driverIsReady() else {
      throw VirtioError(.invalidState, "vrings read before DRIVER_OK (status \(resource.status))")
    }
    let features = try negotiatedFeatures()
    var devices: [VirtqueueDevice] = []
    for i in 0..<resource.vringCount {
      let layout = try resource.vringLayout(i)
      let da = UInt64(try resource.vring(i).deviceAddress)
      let location = try addressMap.location(of: da, length: layout.byteCount)
      let ring = try addressMap.region(at: location, length: layout.byteCount)
      do {
        devices.append(try VirtqueueDevice(
          layout: layout, ring: ring, byteOrder: resource.byteOrder,
          usesEventIndex: features.contains(.eventIndex), addressMap: addressMap))
      } catch {
        throw VirtioError(error.code, "vring \(i): \(error.message)")
      }
    }
    return devices
  }
}
