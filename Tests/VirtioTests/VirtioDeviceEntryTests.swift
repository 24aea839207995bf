import CRemoteprocWire
import SharedMemory
import Testing
import Virtio

@Suite struct VirtioDeviceEntryTests {
  let region = try! SharedMapping.anonymous(count: 4096).region

  @Test func offsetsMatchTheWireHeader() {
    #expect(MemoryLayout<rproc_fw_rsc_vdev>.size == 24)
    #expect(MemoryLayout<rproc_fw_rsc_vdev_vring>.size == 20)
    #expect(VirtioDeviceEntry.byteCount(vrings: 2, configLength: 12) == 24 + 40 + 12)
    #expect(UInt32(VirtioDeviceEntry.maximumVrings) == RPROC_MAX_VRINGS_PER_VDEV)
    #expect(UInt32(VirtioStatus.driverOK.rawValue) == RPROC_VIRTIO_STATUS_DRIVER_OK)
    #expect(UInt32(VirtioStatus.failed.rawValue) == RPROC_VIRTIO_STATUS_FAILED)
    #expect(VirtioFeatures.eventIndex.rawValue == 1 << RPROC_VIRTIO_RING_F_EVENT_IDX)
    #expect(VirtioFeatures.rpmsgNameService.rawValue == 1 << RPROC_VIRTIO_RPMSG_F_NS)
  }

  @Test(arguments: ByteOrder.allCases)
  func fieldsAreReadAndWrittenAtTheirOffsets(order: ByteOrder) throws {
    let vdev = try VirtioDeviceEntry.initialize(
      in: region, byteOrder: order, deviceID: 7, deviceFeatures: [.rpmsgNameService, .eventIndex],
      vrings: [(4096, 256), (4096, 256)], configLength: 12)
    #expect(try region.load(UInt32.self, at: 0, order: order) == 7)
    #expect(try region.load(UInt32.self, at: 8, order: order) == 0x2000_0001)
    #expect(try region.load(UInt32.self, at: 16, order: order) == 12)
    #expect(try region.loadByte(at: 21) == 2)
    #expect(try vdev.vring(1) == .init(deviceAddress: .max, alignment: 4096, count: 256,
                                        notifyID: 0, physicalAddress: 0))
    vdev.driverFeatures = .rpmsgNameService
    #expect(try region.load(UInt32.self, at: 12, order: order) == 1)
    vdev.status = [.acknowledge, .driver]
    #expect(try region.loadByte(at: 20) == 3)
    try vdev.setVringDeviceAddress(1, 0x1234_5678)
    try vdev.setVringNotifyID(1, 5)
    #expect(try region.load(UInt32.self, at: 24 + 20, order: order) == 0x1234_5678)
    #expect(try region.load(UInt32.self, at: 24 + 20 + 12, order: order) == 5)
    // Config space follows the vrings, at 24 + 2·20 = 64.
    try vdev.writeConfig(UInt16(80), at: 0)
    #expect(try region.load(UInt16.self, at: 64, order: order) == 80)
    try vdev.writeConfig([1, 2, 3, 4], at: 8)
    #expect(try vdev.readConfig(at: 8, count: 4) == [1, 2, 3, 4])
    #expect(try vdev.readConfig(UInt32.self, at: 8) == (order == .little ? 0x0403_0201 : 0x0102_0304))
  }

  @Test func configAccessPastConfigLenThrows() throws {
    let vdev = try VirtioDeviceEntry.initialize(
      in: region, byteOrder: .little, deviceID: 3, deviceFeatures: [], vrings: [(16, 4)],
      configLength: 12)
    for (offset, count) in [(12, 1), (9, 4), (-1, 1), (0, 13), (Int.max, 1)] {
      #expect(throws: VirtioError.self) { try vdev.readConfig(at: offset, count: count) }
    }
    #expect(throws: VirtioError.self) { try vdev.writeConfig(UInt32(1), at: 10) }
    #expect(throws: VirtioError.self) { try vdev.vring(1) }
    #expect(try vdev.readConfig(at: 0, count: 12).count == 12)
  }

  @Test func truncatedOrOversizedEntriesAreRejected() throws {
    _ = try VirtioDeviceEntry.initialize(
      in: region, byteOrder: .little, deviceID: 7, deviceFeatures: [], vrings: [(16, 4), (16, 4)],
      configLength: 8)
    let whole = VirtioDeviceEntry.byteCount(vrings: 2, configLength: 8)
    for n in 0..<whole {
      #expect(throws: VirtioError.self) {
        try VirtioDeviceEntry(region: region.slice(at: 0, length: n), byteOrder: .little)
      }
    }
    _ = try VirtioDeviceEntry(region: region.slice(at: 0, length: whole), byteOrder: .little)
    try region.storeByte(3, at: 21)  // num_of_vrings 3 > 2
    #expect(throws: VirtioError.self) { try VirtioDeviceEntry(region: region, byteOrder: .little) }
    try region.storeByte(2, at: 21)
    try region.store(UInt32.max, at: 16, order: .little)  // config_len 4 GiB
    #expect(throws: VirtioError.self) { try VirtioDeviceEntry(region: region, byteOrder: .little) }
  }
}

@Suite struct VirtioHandshakeTests {
  let mapping = try! SharedMapping.anonymous(count: 64 * 1024)

  @Test func driverWalksTheStatusesInLinuxOrderAndTheDeviceWaitsForDriverOK() throws {
    let region = mapping.region
    let vdev = try VirtioDeviceEntry.initialize(
      in: try region.slice(at: 0, length: 256), byteOrder: .little, deviceID: 7,
      deviceFeatures: [.rpmsgNameService, .eventIndex, .indirectDescriptors],
      vrings: [(4096, 16), (4096, 16)])
    let device = VirtioDeviceHandshake(resource: vdev)
    let map = DeviceAddressMap(deviceAddress: 0x1000_0000, region: region)
    #expect(try device.driverIsReady() == false)
    #expect(throws: VirtioError.self) { try device.vrings(addressMap: map) }

    var driver = VirtioDriverHandshake(resource: vdev)
    #expect(throws: VirtioError.self) { try driver.finish() }  // out of order
    try driver.begin()
    #expect(vdev.status.rawValue == 3)
    let features = try driver.negotiate(supported: [.rpmsgNameService, .eventIndex,
                                                    .indirectDescriptors])
    #expect(features == [.rpmsgNameService, .eventIndex])  // never INDIRECT
    #expect(vdev.driverFeatures.rawValue == 0x2000_0001)
    let rings = [
      DeviceMemory(deviceAddress: 0x1000_4000, region: try region.slice(at: 0x4000, length: 0x2000)),
      DeviceMemory(deviceAddress: 0x1000_8000, region: try region.slice(at: 0x8000, length: 0x2000)),
    ]
    try region.fill(0xAA, at: 0x4000, count: 0x2000)
    let drivers = try driver.setUpVrings(rings, notifyIDs: [4, 5])
    #expect(try region.bytes(at: 0x4000, count: 16) == Array(repeating: 0, count: 16))  // zeroed
    #expect(try vdev.vring(0).deviceAddress == 0x1000_4000)
    #expect(try vdev.vring(1).notifyID == 5)
    #expect(drivers.allSatisfy { $0.usesEventIndex })
    #expect(try device.driverIsReady() == false)  // DRIVER_OK not yet published
    try driver.finish()
    #expect(vdev.status.rawValue == 7)
    #expect(try device.driverIsReady())
    let devices = try device.vrings(addressMap: map)
    #expect(devices.count == 2)
    #expect(devices[1].ring.hostAddress == region.hostAddress + 0x8000)
    driver.reset()
    #expect(vdev.status.rawValue == 0)
    #expect(try device.driverIsReady() == false)
  }

  @Test func ringTooSmallOrAddressTooWideIsRejected() throws {
    let region = mapping.region
    let vdev = try VirtioDeviceEntry.initialize(
      in: try region.slice(at: 0, length: 256), byteOrder: .little, deviceID: 7,
      deviceFeatures: [], vrings: [(4096, 256)])
    var driver = VirtioDriverHandshake(resource: vdev)
    try driver.begin()
    try driver.negotiate(supported: [])
    #expect(throws: VirtioError.self) {
      try driver.setUpVrings([DeviceMemory(deviceAddress: 0x4000,
                                           region: try region.slice(at: 0x4000, length: 10245))])
    }
    #expect(throws: VirtioError.self) {
      try driver.setUpVrings([DeviceMemory(deviceAddress: 1 << 32,
                                           region: try region.slice(at: 0x4000, length: 10246))])
    }
    _ = try driver.setUpVrings([DeviceMemory(deviceAddress: 0x4000,
                                             region: try region.slice(at: 0x4000, length: 10246))])
  }

  @Test func deviceRejectsFeaturesItNeverOfferedAndFailedStatus() throws {
    let vdev = try VirtioDeviceEntry.initialize(
      in: try mapping.region.slice(at: 0, length: 256), byteOrder: .big, deviceID: 7,
      deviceFeatures: [.rpmsgNameService], vrings: [])
    vdev.driverFeatures = [.rpmsgNameService, .eventIndex]
    let device = VirtioDeviceHandshake(resource: vdev)
    #expect(throws: VirtioError.self) { try device.negotiatedFeatures() }
    vdev.status = [.acknowledge, .failed]
    #expect(throws: VirtioError.self) { try device.driverIsReady() }
  }

  @Test func vringAddressOutsideTheDeviceMapIsRejected() throws {
    let region = mapping.region
    let vdev = try VirtioDeviceEntry.initialize(
      in: try region.slice(at: 0, length: 256), byteOrder: .little, deviceID: 7,
      deviceFeatures: [], vrings: [(16, 4)])
    try vdev.setVringDeviceAddress(0, 0xFFFF_0000)
    vdev.status = [.acknowledge, .driver, .driverOK]
    let map = DeviceAddressMap(deviceAddress: 0, region: region)
    do {
      _ = try VirtioDeviceHandshake(resource: vdev).vrings(addressMap: map)
      Issue.record("no error")
    } catch {
      #expect(error.code == .addressNotMapped)
    }
  }
}

@Suite struct DeviceAddressMapTests {
  let mapping = try! SharedMapping.anonymous(count: 8192)

  @Test func locatesInsideWindowsOnly() throws {
    let a = try mapping.region.slice(at: 0, length: 4096)
    let b = try mapping.region.slice(at: 4096, length: 4096)
    let map = try DeviceAddressMap([.init(deviceAddress: 0x1000, region: a),
                                    .init(deviceAddress: 0x9000, region: b)])
    #expect(map.locate(0x1000, length: 4096) == .init(window: 0, offset: 0))
    #expect(map.locate(0x9FFF, length: 1) == .init(window: 1, offset: 4095))
    #expect(map.locate(0x1FFF, length: 2) == nil)  // straddles the end
    #expect(map.locate(0x0FFF, length: 1) == nil)
    #expect(map.locate(UInt64.max, length: 1) == nil)
    #expect(map.locate(0x1000, length: -1) == nil)
    #expect(map.locate(0x2000, length: 0) == .init(window: 0, offset: 4096))  // empty, at the end
    #expect(map.deviceAddress(window: 1, offset: 16) == 0x9010)
    let r = try map.region(at: .init(window: 1, offset: 16), length: 16)
    #expect(r.hostAddress == b.hostAddress + 16)
    #expect(throws: VirtioError.self) { try map.location(of: 0x5000, length: 1) }
  }

  @Test func overlappingOrWrappingWindowsAreRejected() throws {
    let a = try mapping.region.slice(at: 0, length: 4096)
    #expect(throws: VirtioError.self) {
      try DeviceAddressMap([.init(deviceAddress: 0x1000, region: a),
                            .init(deviceAddress: 0x1FFF, region: a)])
    }
    #expect(throws: VirtioError.self) {
      try DeviceAddressMap([.init(deviceAddress: UInt64.max - 10, region: a)])
    }
    _ = try DeviceAddressMap([.init(deviceAddress: 0x1000, region: a),
                              .init(deviceAddress: 0x2000, region: a)])
  }
}
