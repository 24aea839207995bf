import Firmware
import RPMsg
import Virtio

extension OpenAMPRemote {
  /// The resource table a remote publishes at ``OpenAMPConfiguration/tableOffset``. The
  /// defaults give OpenAMP's Linux-machine table byte for byte (`rsc_table.c`): one rpmsg vdev
  /// (notify id 0) offering the name service, with two vrings of 256 entries aligned to 0x1000,
  /// vring 0 (remote → host, OpenAMP's `RING_TX`) at 0x4000 with notify id 1 and vring 1
  /// (host → remote, `RING_RX`) at 0x8000 with notify id 2.
  public struct TableOptions: Hashable, Sendable {
    /// Device addresses of vring 0 and vring 1. OpenAMP: `RING_TX`, `RING_RX`.
    public var vringAddresses: [UInt32]
    /// Entries per vring, a power of two. OpenAMP: `VRING_SIZE`.
    public var vringCount: UInt32
    /// Alignment of each used ring, a power of two. OpenAMP: `VRING_ALIGN`.
    public var vringAlignment: UInt32
    /// The vrings' notify ids as published (a host may rewrite them). OpenAMP: 1 and 2.
    public var vringNotifyIDs: [UInt32]
    /// What the device offers. OpenAMP: `RPMSG_VDEV_DFEATURES`, the name service only.
    public var features: VirtioFeatures

    public init(
      vringAddresses: [UInt32] = [0x4000, 0x8000], vringCount: UInt32 = 256, vringAlignment: UInt32 = 0x1000,
      vringNotifyIDs: [UInt32] = [1, 2], features: VirtioFeatures = [.rpmsgNameService]
    ) {
      self.vringAddresses = vringAddresses
      self.vringCount = vringCount
      self.vringAlignment = vringAlignment
      self.vringNotifyIDs = vringNotifyIDs
      self.features = features
    }

    /// The table's bytes. Wire: `struct resource_table` with one `fw_rsc_vdev`.
    public func build() -> [UInt8] {
      let vrings = zip(vringAddresses, vringNotifyIDs).map { address, id in
        VringResource(deviceAddress: address, alignment: vringAlignment, count: vringCount, notifyID: id)
      }
      let device = VirtioDeviceResource(id: RPMsgBus.virtioDeviceID, deviceFeatures: features.rawValue, vrings: vrings)
      return ResourceTableBuilder([.virtioDevice(device)], byteOrder: .host).build()
    }

    /// Checks the table against the file: two vrings of a valid geometry inside it, none of
    /// them over the table, the other vring or the host's rpmsg buffers.
    func check(against configuration: OpenAMPConfiguration, tableBytes: Int) throws(OpenAMPError) {
      func refuse(_ message: String) -> OpenAMPError { OpenAMPError(.invalidConfiguration, message) }
      guard vringAddresses.count == 2, vringNotifyIDs.count == 2 else {
        throw refuse(
          "rpmsg needs 2 vrings: give 2 vringAddresses and 2 vringNotifyIDs (got \(vringAddresses.count) and \(vringNotifyIDs.count))")
      }
      let layout: VringLayout
      do { layout = try VringLayout(count: Int(vringCount), alignment: Int(vringAlignment)) } catch {
        throw refuse("vrings of \(vringCount) entries aligned to \(hex(vringAlignment)): \(error.message)")
      }
      var used: [(name: String, start: Int, end: Int)] = [
        ("the resource table", configuration.tableOffset, configuration.tableOffset + tableBytes),
        ("the rpmsg buffers", configuration.bufferPoolOffset, configuration.bufferPoolOffset + configuration.bufferPoolSize),
      ]
      guard configuration.tableOffset + tableBytes <= configuration.sharedMemorySize else {
        throw refuse(
          "the \(tableBytes)-byte resource table at \(hex(configuration.tableOffset)) does not fit the \(hex(configuration.sharedMemorySize))-byte file")
      }
      if used[0].start < used[1].end && used[1].start < used[0].end {
        throw refuse(
          "the \(tableBytes)-byte resource table at \(hex(configuration.tableOffset)) overlaps the rpmsg buffers [\(hex(used[1].start)), \(hex(used[1].end)))")
      }
      for (i, address) in vringAddresses.enumerated() {
        guard let offset = configuration.offset(ofDeviceAddress: UInt64(address), length: layout.byteCount) else {
          throw refuse(
            "vring \(i) at da \(hex(address)) (+\(hex(layout.byteCount))) is outside the file's device addresses [\(hex(configuration.deviceAddressBase)), +\(hex(configuration.sharedMemorySize)))")
        }
        guard offset % 16 == 0 else { throw refuse("vring \(i) at da \(hex(address)) is not 16-byte aligned") }
        let name = "vring \(i) at da \(hex(address)) (+\(hex(layout.byteCount)))"
        if let other = used.first(where: { $0.start < offset + layout.byteCount && offset < $0.end }) {
          throw refuse("\(name) overlaps \(other.name) [\(hex(other.start)), \(hex(other.end)))")
        }
        used.append((name, offset, offset + layout.byteCount))
      }
    }
  }
}
