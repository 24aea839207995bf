/// One program header: a segment of the image. Wire: `Elf32_Phdr` / `Elf64_Phdr`.
public struct ProgramHeader: Hashable, Sendable {
  /// Position in the program header table.
  public var index: Int
  /// Wire: `p_type` (1 = `PT_LOAD`).
  public var type: UInt32
  /// Where the segment's bytes start in the file. Wire: `p_offset`.
  public var fileOffset: UInt64
  /// Wire: `p_vaddr`.
  public var virtualAddress: UInt64
  /// The device address the segment is loaded at (Linux uses this as `da`). Wire: `p_paddr`.
  public var physicalAddress: UInt64
  /// Bytes present in the file. Wire: `p_filesz`.
  public var fileSize: UInt64
  /// Bytes occupied in memory; the tail past `fileSize` is zero-filled. Wire: `p_memsz`.
  public var memorySize: UInt64
  /// `PF_X` 1, `PF_W` 2, `PF_R` 4. Wire: `p_flags`.
  public var flags: UInt32
  /// Wire: `p_align`.
  public var alignment: UInt64

  public static let loadType: UInt32 = 1

  /// Linux loads `PT_LOAD` segments with a non-zero memory size.
  public var isLoadable: Bool { type == Self.loadType && memorySize > 0 }

  /// The type as readelf names it (`LOAD`, `NOTE`, `GNU_STACK`…), or its number in hex.
  public var typeName: String {
    switch type {
    case 0: "NULL"
    case 1: "LOAD"
    case 2: "DYNAMIC"
    case 3: "INTERP"
    case 4: "NOTE"
    case 6: "PHDR"
    case 7: "TLS"
    case 0x6474_E550: "GNU_EH_FRAME"
    case 0x6474_E551: "GNU_STACK"
    case 0x6474_E552: "GNU_RELRO"
    case 0x7000_0000...0x7FFF_FFFF: "LOPROC+0x" + String(type - 0x7000_0000, radix: 16)
    default: "0x" + String(type, radix: 16)
    }
  }

  /// `R`, `W`, `E` letters as readelf prints them.
  public var flagLetters: String {
    (flags & 4 != 0 ? "R" : " ") + (flags & 2 != 0 ? "W" : " ") + (flags & 1 != 0 ? "E" : " ")
  }

  public init(
    index: Int, type: UInt32, fileOffset: UInt64, virtualAddress: UInt64, physicalAddress: UInt64,
    fileSize: UInt64, memorySize: UInt64, flags: UInt32, alignment: UInt64
  ) {
    self.index = index
    self.type = type
    self.fileOffset = fileOffset
    self.virtualAddress = virtualAddress
    self.physicalAddress = physicalAddress
    self.fileSize = fileSize
    self.memorySize = memorySize
    self.flags = flags
    self.alignment = alignment
  }
}

extension ELFHeaderFields {
  func readProgramHeaders(_ r: ByteReader, _ elfClass: ELFClass) throws(FirmwareError) -> [ProgramHeader] {
    guard programHeaderCount != 0xFFFF else {
      throw FirmwareError(
        .malformedImage, "e_phnum is PN_XNUM (0xffff): extended program header numbering is not supported")
    }
    guard programHeaderCount > 0 else {
      throw FirmwareError(.malformedImage, "no loadable segments: e_phnum is 0")
    }
    guard Int(programHeaderEntrySize) == elfClass.programHeaderSize else {
      throw FirmwareError(
        .malformedImage,
        "e_phentsize is \(hex(programHeaderEntrySize)), \(elfClass) program headers are \(hex(elfClass.programHeaderSize)) bytes")
    }
    let start = try Self.tableRange(
      programHeaderOffset, programHeaderCount, elfClass.programHeaderSize, fileSize: r.count,
      what: "program header (e_phoff)")
    var headers: [ProgramHeader] = []
    headers.reserveCapacity(Int(programHeaderCount))
    for index in 0..<Int(programHeaderCount) {
      let at = start + index * elfClass.programHeaderSize
      let header = try Self.programHeader(r, elfClass, index: index, at: at)
      if header.isLoadable { try Self.checkSegment(header, elfClass, fileSize: r.count) }
      headers.append(header)
    }
    return headers
  }

  static func programHeader(
    _ r: ByteReader, _ elfClass: ELFClass, index i: Int, at o: Int
  ) throws(FirmwareError) -> ProgramHeader {
    if elfClass == .elf64 {
      return ProgramHeader(
        index: i, type: try r.u32(o, "phdr \(i) p_type"),
        fileOffset: try r.u64(o + 8, "phdr \(i) p_offset"),
        virtualAddress: try r.u64(o + 16, "phdr \(i) p_vaddr"),
        physicalAddress: try r.u64(o + 24, "phdr \(i) p_paddr"),
        fileSize: try r.u64(o + 32, "phdr \(i) p_filesz"),
        memorySize: try r.u64(o + 40, "phdr \(i) p_memsz"),
        flags: try r.u32(o + 4, "phdr \(i) p_flags"),
        alignment: try r.u64(o + 48, "phdr \(i) p_align"))
    }
    return ProgramHeader(
      index: i, type: try r.u32(o, "phdr \(i) p_type"),
      fileOffset: UInt64(try r.u32(o + 4, "phdr \(i) p_offset")),
      virtualAddress: UInt64(try r.u32(o + 8, "phdr \(i) p_vaddr")),
      physicalAddress: UInt64(try r.u32(o + 12, "phdr \(i) p_paddr")),
      fileSize: UInt64(try r.u32(o + 16, "phdr \(i) p_filesz")),
      memorySize: UInt64(try r.u32(o + 20, "phdr \(i) p_memsz")),
      flags: try r.u32(o + 24, "phdr \(i) p_flags"),
      alignment: UInt64(try r.u32(o + 28, "phdr \(i) p_align")))
  }

  /// Linux `rproc_elf_load_segments` checks, done up front and overflow-safe.
  static func checkSegment(_ p: ProgramHeader, _ elfClass: ELFClass, fileSize: Int) throws(FirmwareError) {
    let name = "segment \(p.index) (p_paddr \(hex(p.physicalAddress)))"
    guard p.fileSize <= p.memorySize else {
      throw FirmwareError(
        .malformedImage,
        "\(name): bad phdr p_filesz \(hex(p.fileSize)) > p_memsz \(hex(p.memorySize))")
    }
    let (end, overflow) = p.fileOffset.addingReportingOverflow(p.fileSize)
    guard !overflow, end <= UInt64(fileSize) else {
      throw FirmwareError(
        .malformedImage,
        "\(name): truncated: p_offset \(hex(p.fileOffset)) + p_filesz \(hex(p.fileSize)) needs \(hex(p.fileOffset &+ p.fileSize)) bytes, file has \(hex(fileSize))")
    }
    let (last, wraps) = p.physicalAddress.addingReportingOverflow(p.memorySize - 1)
    guard !wraps, last <= elfClass.addressLimit else {
      throw FirmwareError(
        .malformedImage,
        "\(name): p_paddr \(hex(p.physicalAddress)) + p_memsz \(hex(p.memorySize)) wraps the \(elfClass.bits)-bit address space")
    }
    guard p.memorySize <= UInt64(Int32.max) else {
      throw FirmwareError(.malformedImage, "\(name): p_memsz \(hex(p.memorySize)) is larger than 2 GiB")
    }
  }
}
