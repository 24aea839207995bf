import CFuzzInput
import Firmware
import SharedMemory

/// One memory window for loading: device addresses [0x8000_0000, +1 MiB).
let window = try! SharedMapping.anonymous(count: 1 << 20).region

/// Parses the input as an ELF image (finding, parsing and writing back its resource table,
/// reading symbols, loading segments) and as a bare resource table in both byte orders.
/// Any trap is a bug: malformed input must only ever throw.
@_cdecl("rproc_fuzz_one")
public func fuzzOne(_ count: Int) -> Int32 {
  var bytes = [UInt8]()
  bytes.reserveCapacity(count)
  for index in 0..<count { bytes.append(rproc_fuzz_input_byte(index)) }

  if let image = try? ELFImage(bytes: bytes) {
    _ = try? image.symbols()
    _ = image.section(named: ".text").map { image.contents(of: $0) }
    try? image.loadSegments { da, length in
      guard da >= 0x8000_0000, da - 0x8000_0000 < UInt64(window.count) else { return nil }
      return try? window.slice(at: Int(da - 0x8000_0000), length: length)
    }
    if let location = try? image.resourceTable(required: true) {
      exercise(location.table)
    }
  }
  for order in ByteOrder.allCases {
    if let table = try? ResourceTable(bytes: bytes, byteOrder: order, vendorHandler: vendorHandler) {
      exercise(table)
    }
  }
  return 0
}

let vendorHandler: VendorResourceHandler = { type, payload in
  type % 2 == 0 ? .handled(length: min(payload.count, Int(type) % 64), summary: "even") : .ignored
}

/// Renders the table and writes every kind of value back into a loaded copy.
func exercise(_ table: ResourceTable) {
  _ = table.linuxDebugfsText
  guard table.byteCount <= window.count, let region = try? window.slice(at: 0, length: table.byteCount),
    (try? region.write(table.bytes, at: 0)) != nil,
    let loaded = try? LoadedResourceTable(table: table, region: region)
  else { return }
  for entry in table.entries {
    switch entry.kind {
    case .carveout:
      try? loaded.setCarveout(entry, deviceAddress: 1, physicalAddress: 2, length: 3)
    case .virtioDevice(let device):
      for ring in device.vrings.indices {
        try? loaded.setVring(entry, ring: ring, deviceAddress: 4, physicalAddress: 5, notifyID: UInt32(ring))
      }
      try? loaded.setVirtioStatus(entry, 7)
      try? loaded.setGuestFeatures(entry, 1)
    default:
      break
    }
  }
  _ = try? loaded.reparse(vendorHandler: vendorHandler)
  try? loaded.restoreOriginal()
}
