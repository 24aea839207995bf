/// One section header with its name. Wire: `Elf32_Shdr` / `Elf64_Shdr`.
public struct Section: Hashable, Sendable {
  public var index: Int
  /// Resolved from the section-name string table (`e_shstrndx`).
  public var name: String
  /// Wire: `sh_type` (1 `SHT_PROGBITS`, 2 `SHT_SYMTAB`, 3 `SHT_STRTAB`, 8 `SHT_NOBITS`).
  public var type: UInt32
  /// Wire: `sh_flags`.
  public var flags: UInt64
  /// Wire: `sh_addr`.
  public var address: UInt64
  /// Wire: `sh_offset`.
  public var fileOffset: UInt64
  /// Wire: `sh_size`.
  public var size: UInt64
  /// Wire: `sh_link` (for a symbol table, its string table).
  public var link: UInt32
  /// Wire: `sh_entsize`.
  public var entrySize: UInt64

  public static let symbolTableType: UInt32 = 2
  public static let noBitsType: UInt32 = 8

  /// True when the section has bytes in the file (`SHT_NOBITS` has none).
  public var hasFileBytes: Bool { type != Self.noBitsType && type != 0 }
}

extension ELFHeaderFields {
  func readSections(_ r: ByteReader, _ elfClass: ELFClass) throws(FirmwareError) -> [Section] {
    // Linux: "Image is too small" unless shoff + one section header fits.
    guard sectionHeaderCount > 0 else { return [] }
    guard Int(sectionHeaderEntrySize) == elfClass.sectionHeaderSize else {
      throw FirmwareError(
        .malformedImage,
        "e_shentsize is \(hex(sectionHeaderEntrySize)), \(elfClass) section headers are \(hex(elfClass.sectionHeaderSize)) bytes")
    }
    let start = try Self.tableRange(
      sectionHeaderOffset, sectionHeaderCount, elfClass.sectionHeaderSize, fileSize: r.count,
      what: "section header (e_shoff)")
    var raw: [(nameOffset: UInt32, section: Section)] = []
    for index in 0..<Int(sectionHeaderCount) {
      let o = start + index * elfClass.sectionHeaderSize
      let wide = elfClass == .elf64
      let f = "shdr \(index)"
      let section = Section(
        index: index, name: "", type: try r.u32(o + 4, "\(f) sh_type"),
        flags: wide ? try r.u64(o + 8, "\(f) sh_flags") : UInt64(try r.u32(o + 8, "\(f) sh_flags")),
        address: wide ? try r.u64(o + 16, "\(f) sh_addr") : UInt64(try r.u32(o + 12, "\(f) sh_addr")),
        fileOffset: wide ? try r.u64(o + 24, "\(f) sh_offset") : UInt64(try r.u32(o + 16, "\(f) sh_offset")),
        size: wide ? try r.u64(o + 32, "\(f) sh_size") : UInt64(try r.u32(o + 20, "\(f) sh_size")),
        link: try r.u32(o + (wide ? 40 : 24), "\(f) sh_link"),
        entrySize: wide ? try r.u64(o + 56, "\(f) sh_entsize") : UInt64(try r.u32(o + 36, "\(f) sh_entsize")))
      if section.hasFileBytes {
        let (end, overflow) = section.fileOffset.addingReportingOverflow(section.size)
        guard !overflow, end <= UInt64(r.count) else {
          throw FirmwareError(
            .malformedImage,
            "section \(index): sh_offset \(hex(section.fileOffset)) + sh_size \(hex(section.size)) ends past the file of \(hex(r.count)) bytes")
        }
      }
      raw.append((try r.u32(o, "\(f) sh_name"), section))
    }
    guard sectionNameIndex != 0 else { return raw.map(\.section) }
    guard Int(sectionNameIndex) < raw.count else {
      throw FirmwareError(
        .malformedImage,
        "e_shstrndx \(sectionNameIndex) is not below e_shnum \(sectionHeaderCount)")
    }
    let names = raw[Int(sectionNameIndex)].section
    guard names.hasFileBytes else {
      throw FirmwareError(.malformedImage, "e_shstrndx \(sectionNameIndex) names a section without file bytes")
    }
    return try raw.map { (nameOffset, section) throws(FirmwareError) -> Section in
      var named = section
      guard UInt64(nameOffset) < names.size,
        let name = r.cString(Int(names.fileOffset) + Int(nameOffset), limit: Int(names.size - UInt64(nameOffset)))
      else {
        throw FirmwareError(
          .malformedImage,
          "section \(section.index): sh_name \(hex(nameOffset)) is not a NUL-terminated string inside the \(hex(names.size))-byte name table")
      }
      named.name = name
      return named
    }
  }
}

extension ELFImage {
  /// The first section called `name`, or nil.
  public func section(named name: String) -> Section? {
    sections.first { $0.name == name }
  }

  /// The file bytes of a section (empty for `SHT_NOBITS`). Ranges were checked when parsing.
  public func contents(of section: Section) -> ArraySlice<UInt8> {
    guard section.hasFileBytes else { return [] }
    let start = Int(section.fileOffset)
    return bytes[start..<start + Int(section.size)]
  }

  /// The device address at which a file offset ends up once loaded, found through the
  /// `PT_LOAD` segment whose file bytes contain it.
  public func deviceAddress(ofFileOffset offset: UInt64) -> UInt64? {
    for p in loadableSegments where offset >= p.fileOffset && offset - p.fileOffset < p.fileSize {
      return p.physicalAddress + (offset - p.fileOffset)
    }
    return nil
  }
}
