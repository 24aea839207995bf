/// Where an image's resource table is, and the table itself.
public struct ResourceTableLocation: Hashable, Sendable {
  /// The `.resource_table` section.
  public var section: Section
  /// Where the table lands once the segments are loaded (Linux: `find_loaded_rsc_table`),
  /// found through the `PT_LOAD` segment holding the section's bytes; nil when no segment
  /// loads it (the host then keeps its own copy, as Linux does with `cached_table`).
  public var loadedDeviceAddress: UInt64?
  public var table: ResourceTable
}

extension ELFImage {
  /// The name of the section Linux looks for.
  public static let resourceTableSectionName = ".resource_table"

  /// Finds and parses the resource table. Linux: `rproc_elf_find_table` +
  /// `rproc_handle_resources`' checks.
  ///
  /// - Parameter required: when false, an image without a `.resource_table` section yields
  ///   nil (Linux accepts such firmware: it gets no resources); when true it is refused.
  public func resourceTable(
    required: Bool = false, vendorHandler: VendorResourceHandler? = nil
  ) throws(FirmwareError) -> ResourceTableLocation? {
    guard let section = section(named: Self.resourceTableSectionName) else {
      guard !required else {
        throw FirmwareError(.notFound, "no \(Self.resourceTableSectionName) section in the image")
      }
      return nil
    }
    guard section.hasFileBytes else {
      throw FirmwareError(
        .badResourceTable,
        "\(Self.resourceTableSectionName) (section \(section.index)) has no bytes in the file (sh_type \(section.type))")
    }
    let table = try ResourceTable(
      bytes: Array(contents(of: section)), byteOrder: byteOrder, vendorHandler: vendorHandler)
    return ResourceTableLocation(
      section: section, loadedDeviceAddress: deviceAddress(ofFileOffset: section.fileOffset),
      table: table)
  }
}
