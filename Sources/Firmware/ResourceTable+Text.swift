extension ResourceTable {
  /// The table as Linux's debugfs `resource_table` file shows it
  /// (`rproc_rsc_table_show` in drivers/remoteproc/remoteproc_debugfs.c), line for line.
  /// Unknown and vendor types print their number and the entry's table offset where Linux
  /// prints a hashed pointer.
  public var linuxDebugfsText: String {
    var out = ""
    for entry in entries {
      let head = "Entry \(entry.index) is of type \(entry.typeName)\n"
      switch entry.kind {
      case .carveout(let m), .deviceMemory(let m):
        out += head
        out += "  Device Address \(hex(m.deviceAddress))\n"
        out += "  Physical Address \(hex(m.physicalAddress))\n"
        out += "  Length \(hex(m.length)) Bytes\n"
        out += "  Flags \(hex(m.flags))\n"
        out += "  Reserved (should be zero) [0]\n"
        out += "  Name \(m.name)\n\n"
      case .trace(let t):
        out += head
        out += "  Device Address \(hex(t.deviceAddress))\n"
        out += "  Length \(hex(t.length)) Bytes\n"
        out += "  Reserved (should be zero) [0]\n"
        out += "  Name \(t.name)\n\n"
      case .virtioDevice(let v):
        out += head
        out += "  ID \(v.id)\n"
        out += "  Notify ID \(v.notifyID)\n"
        out += "  Device features \(hex(v.deviceFeatures))\n"
        out += "  Guest features \(hex(v.guestFeatures))\n"
        out += "  Config length \(hex(v.configLength))\n"
        out += "  Status \(hex(v.status))\n"
        out += "  Number of vrings \(v.vrings.count)\n"
        out += "  Reserved (should be zero) [0][0]\n\n"
        for (j, ring) in v.vrings.enumerated() {
          out += "  Vring \(j)\n"
          out += "    Device Address \(hex(ring.deviceAddress))\n"
          out += "    Alignment \(ring.alignment)\n"
          out += "    Number of buffers \(ring.count)\n"
          out += "    Notify ID \(ring.notifyID)\n"
          out += "    Physical Address \(hex(ring.physicalAddress))\n\n"
        }
      case .vendor(let vendor):
        out += "Unknown resource type found: \(vendor.type) [hdr: \(hex(entry.offset))]\n"
      case .unknown(let type):
        out += "Unknown resource type found: \(type) [hdr: \(hex(entry.offset))]\n"
      }
    }
    return out
  }
}
