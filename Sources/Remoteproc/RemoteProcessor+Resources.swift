import Firmware
import SharedMemory

extension RemoteProcessor {
  /// Bytes Linux rounds a vring allocation to. Linux: `PAGE_ALIGN(vring_size(num, align))`.
  static let pageSize = 4096

  /// Linux: `vring_size(num, align)`.
  static func vringSize(count: Int, alignment: Int) -> Int {
    let used = (16 * count + 2 * (3 + count) + alignment - 1) & ~(alignment - 1)
    return used + 2 * 3 + 8 * count
  }

  /// Linux: `rproc_handle_resources` with the loading handlers, then
  /// `rproc_alloc_registered_carveouts`: every carveout, vring and buffer pool gets memory,
  /// and the host copy of the table records where.
  func handleResources(image: ELFImage?) throws(RemoteprocError) {
    guard var session, let table = session.originalTable, let cache = session.cache else { return }
    var allocator = CarveoutAllocator(memory: platform.memory)
    if let image {
      for segment in image.loadableSegments {
        allocator.reserve(
          deviceAddress: segment.physicalAddress, length: segment.memorySize, name: "segment \(segment.index)")
      }
    }
    let reuse = session.isAttach
    var vdevIndex = 0
    var nextNotifyID: UInt32 = 0
    for entry in table.entries {
      switch entry.kind {
      case .carveout(let request):
        let fixed = request.deviceAddress == ResourceTable.anyAddress ? nil : UInt64(request.deviceAddress)
        let carveout = try allocateNamed(
          request.name, length: Int(request.length), fixed: fixed, allocator: &allocator, adopt: reuse)
        session.carveouts.append(carveout)
        try writeBack { () throws(FirmwareError) in
          try cache.setCarveout(
            entry, deviceAddress: UInt32(truncatingIfNeeded: carveout.deviceAddress),
            physicalAddress: UInt32(truncatingIfNeeded: carveout.physicalAddress), length: request.length)
        }
      case .deviceMemory(let request):
        guard translate(UInt64(request.deviceAddress), Int(request.length)) != nil else {
          throw RemoteprocError(
            .addressNotMapped,
            "\(firmwareName): devmem \(request.name) asks for da \(hex(request.deviceAddress)) length \(hex(request.length)), which platform \(platform.platformName) does not map")
        }
      case .trace(let trace):
        session.traces.append(trace)
        allocator.reserve(deviceAddress: UInt64(trace.deviceAddress), length: UInt64(trace.length), name: trace.name)
      case .virtioDevice(let device):
        var rings: [VirtioDeviceContext.Vring] = []
        for (ring, vring) in device.vrings.enumerated() {
          let name = "vdev\(vdevIndex)vring\(ring)"
          let size = Self.vringSize(count: Int(vring.count), alignment: Int(vring.alignment))
          let rounded = (size + Self.pageSize - 1) & ~(Self.pageSize - 1)
          let any = vring.deviceAddress == ResourceTable.anyAddress
            || (vring.deviceAddress == 0 && options.legacyZeroVringAddress && !reuse)
          let memory = try allocateNamed(
            name, length: rounded, fixed: any ? nil : UInt64(vring.deviceAddress), allocator: &allocator,
            adopt: reuse)
          session.carveouts.append(memory)
          let notifyID = nextNotifyID
          nextNotifyID += 1
          try writeBack { () throws(FirmwareError) in
            try cache.setVring(
              entry, ring: ring, deviceAddress: UInt32(truncatingIfNeeded: memory.deviceAddress),
              physicalAddress: UInt32(truncatingIfNeeded: memory.physicalAddress), notifyID: notifyID)
          }
          rings.append(.init(notifyID: notifyID, count: vring.count, alignment: vring.alignment, memory: memory))
        }
        var pool: Carveout?
        if let bytes = drivers?.bufferPoolSize(for: device), bytes > 0 {
          let rounded = (bytes + Self.pageSize - 1) & ~(Self.pageSize - 1)
          pool = try allocateNamed(
            "vdev\(vdevIndex)buffer", length: rounded, fixed: nil, allocator: &allocator, adopt: false)
          session.carveouts.append(pool!)
        }
        session.vdevs.append(
          VdevRecord(index: vdevIndex, entry: entry, resource: device, vrings: rings, bufferPool: pool))
        vdevIndex += 1
      case .vendor, .unknown:
        continue  // warned about when parsed
      }
    }
    self.session = session
  }

  /// A carveout: a platform window of the same name when there is one (Linux: a carveout
  /// the platform registered, found by `rproc_find_carveout_by_name`), else an allocation.
  func allocateNamed(
    _ name: String, length: Int, fixed: UInt64?, allocator: inout CarveoutAllocator, adopt: Bool
  ) throws(RemoteprocError) -> Carveout {
    if let window = platform.memory.windows.first(where: { $0.name == name }) {
      let da = fixed ?? window.deviceAddress
      guard let region = window.slice(deviceAddress: da, length: length) else {
        throw RemoteprocError(
          .outOfMemory,
          "carveout \(name): the platform's \(name) is [\(hex(window.deviceAddress)), +\(hex(window.length))), which does not hold da \(hex(da)) length \(hex(length))")
      }
      allocator.reserve(deviceAddress: da, length: UInt64(length), name: name)
      return Carveout(
        name: name, deviceAddress: da, physicalAddress: window.physicalAddress + (da - window.deviceAddress),
        length: length, region: region, windowName: window.name)
    }
    if adopt, let da = fixed {
      // Attaching: the memory is already in use by the running remote; map it, do not move it.
      guard let window = platform.memory.window(containing: da, length: length),
        let region = window.slice(deviceAddress: da, length: length)
      else {
        throw RemoteprocError(
          .addressNotMapped, "carveout \(name): the running remote uses da \(hex(da)) length \(hex(length)), which the platform does not map")
      }
      allocator.reserve(deviceAddress: da, length: UInt64(length), name: name)
      return Carveout(
        name: name, deviceAddress: da, physicalAddress: window.physicalAddress + (da - window.deviceAddress),
        length: length, region: region, windowName: window.name)
    }
    return try allocator.allocate(name: name, length: length, deviceAddress: fixed)
  }

  func writeBack(_ body: () throws(FirmwareError) -> Void) throws(RemoteprocError) {
    do { try body() } catch { throw RemoteprocError(error, firmware: firmwareName) }
  }

  /// Creates the host driver of every vdev, reading and writing its entry in the loaded
  /// table. Linux: `rproc_vdev_do_start` registering the virtio device.
  func makeVirtioDrivers(notifier: RemoteprocNotifier) throws(RemoteprocError) -> [any RemoteprocSubdevice] {
    guard let session, let drivers, !session.vdevs.isEmpty else { return [] }
    let handled = session.vdevs.filter { drivers.bufferPoolSize(for: $0.resource) != nil }
    guard !handled.isEmpty else { return [] }
    guard let loaded = session.loaded else {
      throw RemoteprocError(
        .badResourceTable,
        "\(firmwareName): the resource table is not in memory the remote can read (no PT_LOAD segment holds .resource_table), so its virtio devices cannot be set up")
    }
    var subdevices: [any RemoteprocSubdevice] = []
    for vdev in handled {
      let entry: MemoryRegion
      do {
        entry = try loaded.region.slice(at: vdev.entry.payloadOffset, length: vdev.resource.payloadByteCount)
      } catch {
        throw RemoteprocError(error, "vdev \(vdev.index) entry")
      }
      let context = VirtioDeviceContext(
        index: vdev.index, processorName: deviceName, resource: vdev.resource, entry: entry,
        byteOrder: loaded.table.byteOrder, vrings: vdev.vrings, bufferPool: vdev.bufferPool,
        memory: platform.memory, kick: { [platform] id in platform.kick(notifyID: id) },
        isAttach: session.isAttach)
      subdevices.append(try drivers.makeDriver(context, notifier: notifier))
    }
    return subdevices
  }
}
