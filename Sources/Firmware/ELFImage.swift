import SharedMemory

/// A firmware image in ELF32 or ELF64 format, of either byte order, checked and indexed.
///
/// Parsing performs the checks of Linux's `rproc_elf_sanity_check` and more: every offset,
/// size and count is checked against the file with overflow-safe arithmetic before it is
/// used, so a hostile file produces an error that names the field, never a trap or a read
/// outside the file.
public struct ELFImage: Sendable {
  /// The whole file.
  public let bytes: [UInt8]
  /// ELF32 or ELF64. Wire: `e_ident[EI_CLASS]`.
  public let elfClass: ELFClass
  /// Byte order of every multi-byte field, also of the resource table and, for our
  /// platforms, of the vrings. Wire: `e_ident[EI_DATA]`.
  public let byteOrder: ByteOrder
  /// Wire: `e_type`.
  public let fileType: ELFFileType
  /// Wire: `e_machine`.
  public let machine: ELFMachine
  /// Processor-specific flags (MIPS ISA level, ARM EABI version…). Wire: `e_flags`.
  public let flags: UInt32
  /// Where execution starts. Linux: `rproc_elf_get_boot_addr`. Wire: `e_entry`.
  public let entryPoint: UInt64
  /// Every program header, in file order.
  public let programHeaders: [ProgramHeader]
  /// Every section header, in file order, with its name resolved.
  public let sections: [Section]

  let reader: ByteReader

  /// Parses and checks an image.
  public init(bytes: [UInt8]) throws(FirmwareError) {
    self.bytes = bytes
    guard bytes.count >= 52 else {
      throw FirmwareError(
        .malformedImage,
        "image is too small: \(hex(bytes.count)) bytes, an ELF32 header needs 0x34")
    }
    guard bytes[0] == 0x7F, bytes[1] == 0x45, bytes[2] == 0x4C, bytes[3] == 0x46 else {
      let magic = bytes[0..<4].map { hex($0) }.joined(separator: " ")
      throw FirmwareError(
        .malformedImage, "bad magic at 0x0: \(magic), expected 0x7f 0x45 0x4c 0x46 (\\x7fELF)")
    }
    guard let elfClass = ELFClass(rawValue: bytes[4]) else {
      throw FirmwareError(
        .malformedImage, "unsupported class e_ident[EI_CLASS] at 0x4: \(bytes[4]), expected 1 or 2")
    }
    self.elfClass = elfClass
    switch bytes[5] {
    case 1: byteOrder = .little
    case 2: byteOrder = .big
    default:
      throw FirmwareError(
        .malformedImage,
        "unsupported byte order e_ident[EI_DATA] at 0x5: \(bytes[5]), expected 1 (LSB) or 2 (MSB)")
    }
    guard bytes[6] == 1 else {
      throw FirmwareError(
        .malformedImage, "unsupported e_ident[EI_VERSION] at 0x6: \(bytes[6]), expected 1")
    }
    guard bytes.count >= elfClass.headerSize else {
      throw FirmwareError(
        .malformedImage,
        "ELF64 header is too small: \(hex(bytes.count)) bytes, needs \(hex(elfClass.headerSize))")
    }
    let reader = ByteReader(bytes: bytes, order: byteOrder, what: "file", code: .malformedImage)
    self.reader = reader
    let header = try ELFHeaderFields(reader, elfClass)
    fileType = header.type
    machine = header.machine
    flags = header.flags
    entryPoint = header.entry
    programHeaders = try header.readProgramHeaders(reader, elfClass)
    sections = try header.readSections(reader, elfClass)
    guard programHeaders.contains(where: \.isLoadable) else {
      throw FirmwareError(
        .malformedImage,
        "no loadable segments: none of the \(programHeaders.count) program headers is PT_LOAD with p_memsz > 0")
    }
  }

  /// The program headers Linux loads: `PT_LOAD` with a non-zero memory size.
  public var loadableSegments: [ProgramHeader] { programHeaders.filter(\.isLoadable) }

  /// Total bytes the loadable segments occupy in memory.
  public var loadedByteCount: UInt64 {
    loadableSegments.reduce(0) { $0 &+ $1.memorySize }
  }
}

/// The fields of the ELF header after `e_ident`, read with the class's layout.
struct ELFHeaderFields {
  var type: ELFFileType
  var machine: ELFMachine
  var entry: UInt64
  var programHeaderOffset: UInt64
  var sectionHeaderOffset: UInt64
  var flags: UInt32
  var programHeaderEntrySize: UInt16
  var programHeaderCount: UInt16
  var sectionHeaderEntrySize: UInt16
  var sectionHeaderCount: UInt16
  var sectionNameIndex: UInt16

  init(_ r: ByteReader, _ elfClass: ELFClass) throws(FirmwareError) {
    type = ELFFileType(rawValue: try r.u16(16, "e_type"))
    machine = ELFMachine(rawValue: try r.u16(18, "e_machine"))
    let version = try r.u32(20, "e_version")
    guard version == 1 else {
      throw FirmwareError(.malformedImage, "unsupported e_version at 0x14: \(version), expected 1")
    }
    let wide = elfClass == .elf64
    entry = wide ? try r.u64(24, "e_entry") : UInt64(try r.u32(24, "e_entry"))
    programHeaderOffset = wide ? try r.u64(32, "e_phoff") : UInt64(try r.u32(28, "e_phoff"))
    sectionHeaderOffset = wide ? try r.u64(40, "e_shoff") : UInt64(try r.u32(32, "e_shoff"))
    let base = wide ? 48 : 36
    flags = try r.u32(base, "e_flags")
    programHeaderEntrySize = try r.u16(base + 6, "e_phentsize")
    programHeaderCount = try r.u16(base + 8, "e_phnum")
    sectionHeaderEntrySize = try r.u16(base + 10, "e_shentsize")
    sectionHeaderCount = try r.u16(base + 12, "e_shnum")
    sectionNameIndex = try r.u16(base + 14, "e_shstrndx")
  }

  /// Checks that `count` entries of `size` bytes at `offset` fit in the file.
  static func tableRange(
    _ offset: UInt64, _ count: UInt16, _ size: Int, fileSize: Int, what: String
  ) throws(FirmwareError) -> Int {
    let bytes = UInt64(count) * UInt64(size)
    let (end, overflow) = offset.addingReportingOverflow(bytes)
    guard !overflow, end <= UInt64(fileSize) else {
      throw FirmwareError(
        .malformedImage,
        "\(what) table at \(hex(offset)) with \(count) entries of \(hex(size)) bytes ends past the file of \(hex(fileSize)) bytes")
    }
    return Int(offset)
  }
}
