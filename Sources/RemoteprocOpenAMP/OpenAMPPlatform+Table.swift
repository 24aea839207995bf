import Firmware
import RPMsg
import Remoteproc
import SharedMemory
import Virtio

extension OpenAMPPlatform {
  /// Where the remote's resource table is, once it has been found and checked (see
  /// ``publishedTable(in:configuration:)``). Also names the rpmsg buffer window after the
  /// table's rpmsg vdev (`vdev0buffer` for OpenAMP's table). Linux:
  /// `rproc_ops.get_loaded_rsc_table`.
  public func loadedResourceTable() throws(RemoteprocError) -> (deviceAddress: UInt64, length: Int)? {
    guard let region = sharedMemory else {
      throw RemoteprocError(.invalidState, "openamp: the shared memory is not mapped (attach first)")
    }
    let table: ResourceTable
    do { table = try Self.publishedTable(in: region, configuration: configuration) } catch {
      throw RemoteprocError(.badResourceTable, error.message)
    }
    if let index = table.virtioDevices.firstIndex(where: { $0.device.id == RPMsgBus.virtioDeviceID }) {
      let buffers: MemoryRegion
      do { buffers = try region.slice(at: configuration.bufferPoolOffset, length: configuration.bufferPoolSize) } catch {
        throw RemoteprocError(.platform, "openamp: the rpmsg buffers: \(error.message)")
      }
      let window = MemoryWindow(
        name: "vdev\(index)buffer", deviceAddress: configuration.deviceAddress(ofOffset: configuration.bufferPoolOffset),
        region: buffers, isAllocationPool: false)
      state.withLock { s in
        s.memory = PlatformMemory(Array(s.memory.windows.prefix(1)) + [window])
      }
    }
    return (configuration.deviceAddress(ofOffset: configuration.tableOffset), table.byteCount)
  }

  /// The resource table the remote published at ``OpenAMPConfiguration/tableOffset`` of
  /// `region` (the whole file), exactly as long as its header and entries reach (the file does
  /// not say how long it is), checked as any firmware's table is, and against the layout: every
  /// vring at a fixed address inside the file, clear of the table, the rpmsg buffers and the
  /// other vrings.
  public static func publishedTable(
    in region: MemoryRegion, configuration: OpenAMPConfiguration
  ) throws(OpenAMPError) -> ResourceTable {
    let path = configuration.sharedMemoryPath
    let at = "\(path) at offset \(hex(configuration.tableOffset))"
    let table: ResourceTable
    do {
      let available = try region.bytes(at: configuration.tableOffset, count: region.count - configuration.tableOffset)
      let bounded = try ResourceTable(bytes: available, byteOrder: .host)
      let header = ResourceTable.headerSize + 4 * bounded.entries.count
      let end = bounded.entries.map { $0.offset + $0.byteCount }.reduce(header, max)
      table = try ResourceTable(bytes: Array(available.prefix(end)), byteOrder: .host)
    } catch let error as FirmwareError {
      throw OpenAMPError(
        .badResourceTable,
        "\(at) holds no usable resource table: \(error.message) (has the remote written it? OpenAMP's remote writes it before it listens on \(configuration.socketPath))")
    } catch {
      throw OpenAMPError(.sharedMemory, "\(at): \(error)")
    }
    let tableRange = configuration.tableOffset..<configuration.tableOffset + table.byteCount
    let buffers = configuration.bufferPoolOffset..<configuration.bufferPoolOffset + configuration.bufferPoolSize
    if tableRange.overlaps(buffers) {
      throw OpenAMPError(
        .badResourceTable,
        "\(at): the \(hex(table.byteCount))-byte table overlaps the rpmsg buffers [\(hex(buffers.lowerBound)), \(hex(buffers.upperBound)))")
    }
    var rings: [(name: String, range: Range<Int>)] = []
    for (number, (entry, device)) in table.virtioDevices.enumerated() {
      for (i, vring) in device.vrings.enumerated() {
        let name = "vdev \(number) (entry \(entry.index)) vring \(i)"
        guard vring.deviceAddress != ResourceTable.anyAddress else {
          throw OpenAMPError(
            .badResourceTable, "\(at): \(name) asks the host to choose its address; a running remote's vrings must be fixed")
        }
        let size: Int
        do { size = try VringLayout(count: Int(vring.count), alignment: Int(vring.alignment)).byteCount } catch {
          throw OpenAMPError(.badResourceTable, "\(at): \(name): \(error.message)")
        }
        guard let offset = configuration.offset(ofDeviceAddress: UInt64(vring.deviceAddress), length: size) else {
          throw OpenAMPError(
            .badResourceTable,
            "\(at): \(name) at da \(hex(vring.deviceAddress)) (+\(hex(size))) is outside the file's device addresses [\(hex(configuration.deviceAddressBase)), +\(hex(configuration.sharedMemorySize)))")
        }
        let ring = offset..<offset + size
        let taken = [("the resource table", tableRange), ("the rpmsg buffers", buffers)] + rings.map { ($0.name, $0.range) }
        for (what, range) in taken where ring.overlaps(range) {
          throw OpenAMPError(
            .badResourceTable,
            "\(at): \(name) at da \(hex(vring.deviceAddress)) (+\(hex(size))) overlaps \(what) [\(hex(range.lowerBound)), \(hex(range.upperBound)))")
        }
        rings.append((name, ring))
      }
    }
    return table
  }
}
