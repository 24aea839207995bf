import CRemoteprocWire
import Firmware
import Testing

/// Every offset the Swift code uses equals the C header's, which the firmware SDK compiles.
@Suite struct WireLayoutTests {
  @Test func structSizesMatchTheHeader() {
    #expect(MemoryLayout<rproc_resource_table>.size == WireLayout.Table.offsets)
    #expect(MemoryLayout<rproc_fw_rsc_carveout>.size == WireLayout.Carveout.size)
    #expect(MemoryLayout<rproc_fw_rsc_devmem>.size == WireLayout.Carveout.size)
    #expect(MemoryLayout<rproc_fw_rsc_trace>.size == WireLayout.Trace.size)
    #expect(MemoryLayout<rproc_fw_rsc_vdev>.size == WireLayout.VirtioDevice.size)
    #expect(MemoryLayout<rproc_fw_rsc_vdev_vring>.size == WireLayout.Vring.size)
    #expect(MemoryLayout<rproc_rsc_hdr>.size == 4)
  }

  @Test func fieldOffsetsMatchTheHeader() {
    typealias C = rproc_fw_rsc_carveout
    #expect(MemoryLayout<C>.offset(of: \.da) == WireLayout.Carveout.deviceAddress)
    #expect(MemoryLayout<C>.offset(of: \.pa) == WireLayout.Carveout.physicalAddress)
    #expect(MemoryLayout<C>.offset(of: \.len) == WireLayout.Carveout.length)
    #expect(MemoryLayout<C>.offset(of: \.flags) == WireLayout.Carveout.flags)
    #expect(MemoryLayout<C>.offset(of: \.reserved) == WireLayout.Carveout.reserved)
    #expect(MemoryLayout<C>.offset(of: \.name) == WireLayout.Carveout.name)
    typealias T = rproc_fw_rsc_trace
    #expect(MemoryLayout<T>.offset(of: \.da) == WireLayout.Trace.deviceAddress)
    #expect(MemoryLayout<T>.offset(of: \.len) == WireLayout.Trace.length)
    #expect(MemoryLayout<T>.offset(of: \.reserved) == WireLayout.Trace.reserved)
    #expect(MemoryLayout<T>.offset(of: \.name) == WireLayout.Trace.name)
    typealias V = rproc_fw_rsc_vdev
    #expect(MemoryLayout<V>.offset(of: \.id) == WireLayout.VirtioDevice.id)
    #expect(MemoryLayout<V>.offset(of: \.notifyid) == WireLayout.VirtioDevice.notifyID)
    #expect(MemoryLayout<V>.offset(of: \.dfeatures) == WireLayout.VirtioDevice.deviceFeatures)
    #expect(MemoryLayout<V>.offset(of: \.gfeatures) == WireLayout.VirtioDevice.guestFeatures)
    #expect(MemoryLayout<V>.offset(of: \.config_len) == WireLayout.VirtioDevice.configLength)
    #expect(MemoryLayout<V>.offset(of: \.status) == WireLayout.VirtioDevice.status)
    #expect(MemoryLayout<V>.offset(of: \.num_of_vrings) == WireLayout.VirtioDevice.ringCount)
    #expect(MemoryLayout<V>.offset(of: \.reserved) == WireLayout.VirtioDevice.reserved)
    typealias R = rproc_fw_rsc_vdev_vring
    #expect(MemoryLayout<R>.offset(of: \.da) == WireLayout.Vring.deviceAddress)
    #expect(MemoryLayout<R>.offset(of: \.align) == WireLayout.Vring.alignment)
    #expect(MemoryLayout<R>.offset(of: \.num) == WireLayout.Vring.count)
    #expect(MemoryLayout<R>.offset(of: \.notifyid) == WireLayout.Vring.notifyID)
    #expect(MemoryLayout<R>.offset(of: \.pa) == WireLayout.Vring.physicalAddress)
    typealias H = rproc_resource_table
    #expect(MemoryLayout<H>.offset(of: \.ver) == WireLayout.Table.version)
    #expect(MemoryLayout<H>.offset(of: \.num) == WireLayout.Table.count)
    #expect(MemoryLayout<H>.offset(of: \.reserved) == WireLayout.Table.reserved)
  }

  @Test func constantsMatchTheHeader() {
    #expect(ResourceTable.anyAddress == RPROC_FW_RSC_ADDR_ANY)
    #expect(ResourceTable.supportedVersion == RPROC_RSC_TABLE_VERSION)
    #expect(ResourceTable.nameSize == RPROC_MAX_NAME_LEN)
    #expect(ResourceTable.maxVringsPerDevice == RPROC_MAX_VRINGS_PER_VDEV)
    #expect(ResourceTable.headerSize == RPROC_RSC_TABLE_HEADER_SIZE)
    #expect(RPROC_RSC_CARVEOUT.rawValue == 0 && RPROC_RSC_VDEV.rawValue == 3)
    #expect(RPROC_RSC_VENDOR_START.rawValue == 128 && RPROC_RSC_VENDOR_END.rawValue == 512)
  }
}
