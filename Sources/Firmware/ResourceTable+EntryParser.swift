/// Walks `offset[]` and decodes each entry with its handler's length checks.
struct EntryParser {
  let reader: ByteReader
  /// End of `offset[]`: no entry may start before it.
  let headerEnd: Int
  let vendorHandler: VendorResourceHandler?
  var entries: [ResourceEntry] = []
  var warnings: [String] = []

  init(reader: ByteReader, headerEnd: Int, vendorHandler: VendorResourceHandler?) {
    self.reader = reader
    self.headerEnd = headerEnd
    self.vendorHandler = vendorHandler
  }

  private var size: Int { reader.count }

  private func fail(_ message: String) -> FirmwareError {
    FirmwareError(.badResourceTable, message)
  }

  mutating func parse(index: Int) throws(FirmwareError) {
    let offset = Int(try reader.u32(ResourceTable.headerSize + 4 * index, "offset[\(index)]"))
    let at = "entry \(index) at \(hex(offset))"
    guard offset >= headerEnd else {
      throw fail("\(at): offset lies inside the table header, which ends at \(hex(headerEnd))")
    }
    guard offset < size, size - offset >= 4 else {
      throw fail("\(at): needs 4 bytes for its type, table has \(hex(size))")
    }
    let type = try reader.u32(offset, "\(at) type")
    let available = size - offset - 4
    let payload = offset + 4
    let kind: ResourceEntry.Kind
    var payloadLength: Int
    switch type {
    case 0, 1:
      let name = type == 0 ? "carveout" : "devmem"
      try need(WireLayout.Carveout.size, available, "\(at) (\(name))")
      let memory = try memoryResource(at: payload, "\(at) (\(name))")
      kind = type == 0 ? .carveout(memory) : .deviceMemory(memory)
      payloadLength = WireLayout.Carveout.size
    case 2:
      try need(WireLayout.Trace.size, available, "\(at) (trace)")
      let reserved = try reader.u32(payload + WireLayout.Trace.reserved, "\(at) (trace) reserved")
      guard reserved == 0 else { throw fail("\(at) (trace): non-zero reserved field \(hex(reserved))") }
      kind = .trace(
        TraceResource(
          deviceAddress: try reader.u32(payload + WireLayout.Trace.deviceAddress, "\(at) (trace) da"),
          length: try reader.u32(payload + WireLayout.Trace.length, "\(at) (trace) len"),
          name: try name(at: payload + WireLayout.Trace.name, "\(at) (trace)")))
      payloadLength = WireLayout.Trace.size
    case 3:
      let device = try virtioDevice(at: payload, available: available, "\(at) (vdev)")
      kind = .virtioDevice(device)
      payloadLength = device.payloadByteCount
    case 128...512:
      let result =
        try vendorHandler?(type, reader.bytes[payload..<size]) ?? .ignored
      switch result {
      case .handled(let length, let summary):
        guard length >= 0, length <= available else {
          throw fail("\(at) (vendor \(type)): handler claimed \(hex(length)) bytes, \(hex(available)) remain")
        }
        kind = .vendor(VendorResource(type: type, payloadLength: length, summary: summary))
        payloadLength = length
      case .ignored:
        warnings.append("\(at): vendor resource type \(type) not handled, skipped")
        kind = .vendor(VendorResource(type: type, payloadLength: nil, summary: "not handled"))
        payloadLength = 0
      }
    default:
      warnings.append("\(at): unsupported resource type \(type), skipped")
      kind = .unknown(type: type)
      payloadLength = 0
    }
    entries.append(ResourceEntry(index: index, offset: offset, byteCount: 4 + payloadLength, kind: kind))
  }

  private func need(_ bytes: Int, _ available: Int, _ what: String) throws(FirmwareError) {
    guard bytes <= available else {
      throw fail("\(what) is truncated: needs \(hex(bytes)) bytes, \(hex(available)) remain in the table")
    }
  }

  private func name(at offset: Int, _ what: String) throws(FirmwareError) -> String {
    guard let name = reader.cString(offset, limit: ResourceTable.nameSize) else {
      throw fail("\(what): name at \(hex(offset)) is not NUL-terminated within \(ResourceTable.nameSize) bytes")
    }
    return name
  }

  private func memoryResource(at p: Int, _ what: String) throws(FirmwareError) -> MemoryResource {
    let reserved = try reader.u32(p + WireLayout.Carveout.reserved, "\(what) reserved")
    guard reserved == 0 else { throw fail("\(what): non-zero reserved field \(hex(reserved))") }
    return MemoryResource(
      deviceAddress: try reader.u32(p + WireLayout.Carveout.deviceAddress, "\(what) da"),
      physicalAddress: try reader.u32(p + WireLayout.Carveout.physicalAddress, "\(what) pa"),
      length: try reader.u32(p + WireLayout.Carveout.length, "\(what) len"),
      flags: try reader.u32(p + WireLayout.Carveout.flags, "\(what) flags"),
      name: try name(at: p + WireLayout.Carveout.name, what))
  }

  private func virtioDevice(at p: Int, available: Int, _ what: String) throws(FirmwareError) -> VirtioDeviceResource {
    typealias L = WireLayout.VirtioDevice
    typealias R = WireLayout.Vring
    try need(L.size, available, what)
    let ringCount = Int(try reader.u8(p + L.ringCount, "\(what) num_of_vrings"))
    let configLength = try reader.u32(p + L.configLength, "\(what) config_len")
    guard ringCount <= ResourceTable.maxVringsPerDevice else {
      throw fail("\(what): too many vrings: \(ringCount), at most \(ResourceTable.maxVringsPerDevice)")
    }
    let total = UInt64(L.size + R.size * ringCount) + UInt64(configLength)
    guard total <= UInt64(available) else {
      throw fail(
        "\(what) is truncated: 24 + 20 × \(ringCount) vrings + config_len \(hex(configLength)) = \(hex(total)) bytes, \(hex(available)) remain in the table")
    }
    let reserved = (try reader.u8(p + L.reserved, "\(what) reserved[0]"), try reader.u8(p + L.reserved + 1, "\(what) reserved[1]"))
    guard reserved == (0, 0) else {
      throw fail("\(what): non-zero reserved bytes \(hex(reserved.0)) \(hex(reserved.1))")
    }
    var vrings: [VringResource] = []
    for ring in 0..<ringCount {
      let o = p + L.rings + R.size * ring
      let f = "\(what) vring \(ring)"
      let vring = VringResource(
        deviceAddress: try reader.u32(o + R.deviceAddress, "\(f) da"),
        alignment: try reader.u32(o + R.alignment, "\(f) align"),
        count: try reader.u32(o + R.count, "\(f) num"),
        notifyID: try reader.u32(o + R.notifyID, "\(f) notifyid"),
        physicalAddress: try reader.u32(o + R.physicalAddress, "\(f) pa"))
      guard vring.count > 0, vring.count <= 32768, vring.count & (vring.count - 1) == 0 else {
        throw fail("\(f): num \(vring.count) is not a power of two in 1...32768")
      }
      guard vring.alignment > 0, vring.alignment & (vring.alignment - 1) == 0 else {
        throw fail("\(f): align \(vring.alignment) is not a power of two")
      }
      vrings.append(vring)
    }
    let configStart = p + L.rings + R.size * ringCount
    return VirtioDeviceResource(
      id: try reader.u32(p + L.id, "\(what) id"), notifyID: try reader.u32(p + L.notifyID, "\(what) notifyid"),
      deviceFeatures: try reader.u32(p + L.deviceFeatures, "\(what) dfeatures"),
      guestFeatures: try reader.u32(p + L.guestFeatures, "\(what) gfeatures"), configLength: configLength,
      status: try reader.u8(p + L.status, "\(what) status"), vrings: vrings,
      config: Array(reader.bytes[configStart..<configStart + Int(configLength)]))
  }

  /// Refuses entries whose bytes overlap. Linux does not check; a firmware that overlaps
  /// entries would see the host's write-backs corrupt a neighbour.
  func checkOverlaps() throws(FirmwareError) {
    let sorted = entries.sorted { ($0.offset, $0.index) < ($1.offset, $1.index) }
    for (a, b) in zip(sorted, sorted.dropFirst()) where a.offset + a.byteCount > b.offset {
      throw fail(
        "entries \(a.index) [\(hex(a.offset)), \(hex(a.offset + a.byteCount))) and \(b.index) [\(hex(b.offset)), \(hex(b.offset + b.byteCount))) overlap")
    }
  }
}
