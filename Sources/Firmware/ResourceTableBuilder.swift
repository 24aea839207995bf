import SharedMemory

/// Writes resource tables: for remotes written in Swift (which publish a table like any
/// firmware), for attach scenarios, and for tests. ``ResourceTable`` reads back exactly
/// what this writes.
public struct ResourceTableBuilder: Sendable {
  public enum Entry: Sendable {
    case carveout(MemoryResource)
    case deviceMemory(MemoryResource)
    case trace(TraceResource)
    case virtioDevice(VirtioDeviceResource)
    /// A vendor or unknown entry: the type word, then `payload` verbatim.
    case raw(type: UInt32, payload: [UInt8])
  }

  public var entries: [Entry]
  public var byteOrder: ByteOrder

  public init(_ entries: [Entry] = [], byteOrder: ByteOrder = .little) {
    self.entries = entries
    self.byteOrder = byteOrder
  }

  /// A carveout request.
  public static func carveout(
    _ name: String, deviceAddress: UInt32 = ResourceTable.anyAddress, length: UInt32, flags: UInt32 = 0
  ) -> Entry {
    .carveout(MemoryResource(deviceAddress: deviceAddress, physicalAddress: 0, length: length, flags: flags, name: name))
  }

  /// A trace buffer at a fixed device address.
  public static func trace(_ name: String, deviceAddress: UInt32, length: UInt32) -> Entry {
    .trace(TraceResource(deviceAddress: deviceAddress, length: length, name: name))
  }

  /// A virtio device with vrings of `ringSize` descriptors aligned to `alignment`.
  public static func virtioDevice(
    id: UInt32, features: UInt32, rings: Int = 2, ringSize: UInt32 = 256, alignment: UInt32 = 4096,
    ringAddress: UInt32 = ResourceTable.anyAddress, config: [UInt8] = []
  ) -> Entry {
    .virtioDevice(
      VirtioDeviceResource(
        id: id, notifyID: 0, deviceFeatures: features, guestFeatures: 0, configLength: UInt32(config.count),
        status: 0,
        vrings: (0..<rings).map { _ in
          VringResource(deviceAddress: ringAddress, alignment: alignment, count: ringSize, notifyID: 0, physicalAddress: 0)
        }, config: config))
  }

  /// The table's bytes: header, `offset[]`, then each entry in order, 4-byte aligned.
  public func build() -> [UInt8] {
    var w = ByteWriter(order: byteOrder)
    var payloads: [[UInt8]] = []
    for entry in entries {
      var p = ByteWriter(order: byteOrder)
      switch entry {
      case .carveout(let m), .deviceMemory(let m):
        if case .carveout = entry { p.u32(0) } else { p.u32(1) }
        p.u32(m.deviceAddress); p.u32(m.physicalAddress); p.u32(m.length); p.u32(m.flags); p.u32(0)
        p.name(m.name)
      case .trace(let t):
        p.u32(2); p.u32(t.deviceAddress); p.u32(t.length); p.u32(0)
        p.name(t.name)
      case .virtioDevice(let v):
        p.u32(3); p.u32(v.id); p.u32(v.notifyID); p.u32(v.deviceFeatures); p.u32(v.guestFeatures)
        p.u32(v.configLength)
        p.bytes += [v.status, UInt8(v.vrings.count), 0, 0]
        for ring in v.vrings {
          p.u32(ring.deviceAddress); p.u32(ring.alignment); p.u32(ring.count); p.u32(ring.notifyID)
          p.u32(ring.physicalAddress)
        }
        p.bytes += v.config
      case .raw(let type, let payload):
        p.u32(type)
        p.bytes += payload
      }
      p.pad(to: (p.bytes.count + 3) & ~3)
      payloads.append(p.bytes)
    }
    w.u32(ResourceTable.supportedVersion)
    w.u32(UInt32(entries.count))
    w.u32(0)
    w.u32(0)
    var offset = ResourceTable.headerSize + 4 * entries.count
    for payload in payloads {
      w.u32(UInt32(offset))
      offset += payload.count
    }
    for payload in payloads { w.bytes += payload }
    return w.bytes
  }
}

extension ByteWriter {
  /// A NUL-padded 32-byte name (truncated to 31 bytes so a NUL always ends it).
  mutating func name(_ name: String) {
    let utf8 = Array(name.utf8.prefix(ResourceTable.nameSize - 1))
    bytes += utf8 + [UInt8](repeating: 0, count: ResourceTable.nameSize - utf8.count)
  }
}
