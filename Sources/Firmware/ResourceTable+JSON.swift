/// JSON form of a resource entry, with the Linux struct field names (`da`, `pa`, `len`,
/// `notifyid`, `dfeatures`…), for tools: `{"type": "carveout", "da": 3758096384, …}`.
extension ResourceEntry: Encodable {
  private enum Key: String, CodingKey {
    case type, index, offset, da, pa, len, flags, name, id, notifyid, dfeatures, gfeatures
    case config_len, status, vrings, config, vendor_type, summary
  }

  public func encode(to encoder: any Encoder) throws {
    var c = encoder.container(keyedBy: Key.self)
    try c.encode(index, forKey: .index)
    try c.encode(offset, forKey: .offset)
    switch kind {
    case .carveout(let m), .deviceMemory(let m):
      try c.encode(typeName, forKey: .type)
      try c.encode(m.deviceAddress, forKey: .da)
      try c.encode(m.physicalAddress, forKey: .pa)
      try c.encode(m.length, forKey: .len)
      try c.encode(m.flags, forKey: .flags)
      try c.encode(m.name, forKey: .name)
    case .trace(let t):
      try c.encode("trace", forKey: .type)
      try c.encode(t.deviceAddress, forKey: .da)
      try c.encode(t.length, forKey: .len)
      try c.encode(t.name, forKey: .name)
    case .virtioDevice(let v):
      try c.encode("vdev", forKey: .type)
      try c.encode(v.id, forKey: .id)
      try c.encode(v.notifyID, forKey: .notifyid)
      try c.encode(v.deviceFeatures, forKey: .dfeatures)
      try c.encode(v.guestFeatures, forKey: .gfeatures)
      try c.encode(v.configLength, forKey: .config_len)
      try c.encode(v.status, forKey: .status)
      try c.encode(v.vrings, forKey: .vrings)
      try c.encode(v.config.map { String($0, radix: 16) }.map { $0.count == 1 ? "0" + $0 : $0 }.joined(), forKey: .config)
    case .vendor(let vendor):
      try c.encode("vendor", forKey: .type)
      try c.encode(vendor.type, forKey: .vendor_type)
      try c.encode(vendor.summary, forKey: .summary)
      if let length = vendor.payloadLength { try c.encode(length, forKey: .len) }
    case .unknown(let type):
      try c.encode("unknown", forKey: .type)
      try c.encode(type, forKey: .vendor_type)
    }
  }
}

extension VringResource: Encodable {
  private enum Key: String, CodingKey { case da, align, num, notifyid, pa }

  public func encode(to encoder: any Encoder) throws {
    var c = encoder.container(keyedBy: Key.self)
    try c.encode(deviceAddress, forKey: .da)
    try c.encode(alignment, forKey: .align)
    try c.encode(count, forKey: .num)
    try c.encode(notifyID, forKey: .notifyid)
    try c.encode(physicalAddress, forKey: .pa)
  }
}
