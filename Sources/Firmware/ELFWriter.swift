import SharedMemory

/// Builds ELF images: core dumps of remote memory, firmware images for tests and
/// benchmarks. The output is read back by ``ELFImage`` and by `readelf`.
///
/// Layout: ELF header, program headers, segment bytes (each aligned to 16), section bytes,
/// the section-name string table, then section headers.
public struct ELFWriter: Sendable {
  public struct Segment: Sendable {
    public var type: UInt32 = ProgramHeader.loadType
    public var physicalAddress: UInt64
    public var virtualAddress: UInt64
    public var data: [UInt8]
    /// At least `data.count`; the rest is zero-filled when loaded.
    public var memorySize: UInt64
    public var flags: UInt32
    public var alignment: UInt64

    public init(
      type: UInt32 = ProgramHeader.loadType, physicalAddress: UInt64, virtualAddress: UInt64? = nil,
      data: [UInt8], memorySize: UInt64? = nil, flags: UInt32 = 7, alignment: UInt64 = 4
    ) {
      self.type = type
      self.physicalAddress = physicalAddress
      self.virtualAddress = virtualAddress ?? physicalAddress
      self.data = data
      self.memorySize = memorySize ?? UInt64(data.count)
      self.flags = flags
      self.alignment = alignment
    }
  }

  public struct SectionSpec: Sendable {
    public var name: String
    public var type: UInt32
    public var flags: UInt64
    public var address: UInt64
    public var data: [UInt8]
    /// When set, the section shares the file bytes of that segment instead of its own
    /// copy (so a `.resource_table` section can lie inside a loaded segment, as linkers do).
    public var inSegment: (index: Int, offset: Int)?

    public init(
      name: String, type: UInt32 = 1, flags: UInt64 = 2, address: UInt64 = 0, data: [UInt8],
      inSegment: (index: Int, offset: Int)? = nil
    ) {
      self.name = name
      self.type = type
      self.flags = flags
      self.address = address
      self.data = data
      self.inSegment = inSegment
    }
  }

  public var elfClass: ELFClass
  public var byteOrder: ByteOrder
  public var fileType: ELFFileType
  public var machine: ELFMachine
  public var flags: UInt32 = 0
  public var entryPoint: UInt64 = 0
  public var segments: [Segment] = []
  public var sections: [SectionSpec] = []

  public init(
    elfClass: ELFClass, byteOrder: ByteOrder, fileType: ELFFileType = .executable,
    machine: ELFMachine, flags: UInt32 = 0, entryPoint: UInt64 = 0
  ) {
    self.elfClass = elfClass
    self.byteOrder = byteOrder
    self.fileType = fileType
    self.machine = machine
    self.flags = flags
    self.entryPoint = entryPoint
  }

  /// The file bytes.
  public func build() -> [UInt8] {
    var out = ByteWriter(order: byteOrder)
    let wide = elfClass == .elf64
    let phoff = elfClass.headerSize
    var cursor = phoff + segments.count * elfClass.programHeaderSize
    var segmentOffsets: [Int] = []
    for segment in segments {
      cursor = (cursor + 15) & ~15
      segmentOffsets.append(cursor)
      cursor += segment.data.count
    }
    var sectionOffsets: [Int] = []
    for section in sections {
      if let (index, offset) = section.inSegment {
        sectionOffsets.append(segmentOffsets[index] + offset)
      } else {
        cursor = (cursor + 15) & ~15
        sectionOffsets.append(cursor)
        cursor += section.type == Section.noBitsType ? 0 : section.data.count
      }
    }
    // The name table: "" then every section name, then ".shstrtab".
    var names: [UInt8] = [0]
    var nameOffsets: [Int] = []
    for section in sections {
      nameOffsets.append(names.count)
      names += Array(section.name.utf8) + [0]
    }
    let shstrtabName = names.count
    names += Array(".shstrtab".utf8) + [0]
    let namesOffset = cursor
    cursor += names.count
    let shoff = (cursor + 7) & ~7
    let shnum = sections.count + 2

    // ELF header.
    out.bytes += [0x7F, 0x45, 0x4C, 0x46, elfClass.rawValue, byteOrder == .little ? 1 : 2, 1, 0]
    out.bytes += [UInt8](repeating: 0, count: 8)
    out.u16(fileType.rawValue)
    out.u16(machine.rawValue)
    out.u32(1)
    out.word(entryPoint, wide)
    out.word(UInt64(phoff), wide)
    out.word(UInt64(shoff), wide)
    out.u32(flags)
    out.u16(UInt16(elfClass.headerSize))
    out.u16(UInt16(elfClass.programHeaderSize))
    out.u16(UInt16(segments.count))
    out.u16(UInt16(elfClass.sectionHeaderSize))
    out.u16(UInt16(shnum))
    out.u16(UInt16(shnum - 1))

    for (segment, offset) in zip(segments, segmentOffsets) {
      out.u32(segment.type)
      if wide { out.u32(segment.flags) }
      out.word(UInt64(offset), wide)
      out.word(segment.virtualAddress, wide)
      out.word(segment.physicalAddress, wide)
      out.word(UInt64(segment.data.count), wide)
      out.word(segment.memorySize, wide)
      if !wide { out.u32(segment.flags) }
      out.word(segment.alignment, wide)
    }
    for (segment, offset) in zip(segments, segmentOffsets) {
      out.pad(to: offset)
      out.bytes += segment.data
    }
    for (section, offset) in zip(sections, sectionOffsets)
    where section.inSegment == nil && section.type != Section.noBitsType {
      out.pad(to: offset)
      out.bytes += section.data
    }
    out.pad(to: namesOffset)
    out.bytes += names
    out.pad(to: shoff)

    // Section headers: the null section, the given ones, then .shstrtab.
    out.bytes += [UInt8](repeating: 0, count: elfClass.sectionHeaderSize)
    for (index, section) in sections.enumerated() {
      out.sectionHeader(
        name: nameOffsets[index], type: section.type, flags: section.flags, address: section.address,
        offset: sectionOffsets[index], size: section.data.count, wide: wide)
    }
    out.sectionHeader(
      name: shstrtabName, type: 3, flags: 0, address: 0, offset: namesOffset, size: names.count,
      wide: wide)
    return out.bytes
  }
}

/// Appends integers in a byte order.
struct ByteWriter {
  let order: ByteOrder
  var bytes: [UInt8] = []

  mutating func integer<T: FixedWidthInteger>(_ value: T) {
    let ordered = value.convertingByteOrder(order)
    for shift in stride(from: 0, to: T.bitWidth, by: 8) {
      bytes.append(UInt8(truncatingIfNeeded: ordered.littleEndian >> shift))
    }
  }

  mutating func u16(_ value: UInt16) { integer(value) }
  mutating func u32(_ value: UInt32) { integer(value) }
  mutating func word(_ value: UInt64, _ wide: Bool) {
    if wide { integer(value) } else { integer(UInt32(truncatingIfNeeded: value)) }
  }
  mutating func pad(to offset: Int) {
    if bytes.count < offset { bytes += [UInt8](repeating: 0, count: offset - bytes.count) }
  }

  mutating func sectionHeader(
    name: Int, type: UInt32, flags: UInt64, address: UInt64, offset: Int, size: Int, wide: Bool
  ) {
    u32(UInt32(name))
    u32(type)
    word(flags, wide)
    word(address, wide)
    word(UInt64(offset), wide)
    word(UInt64(size), wide)
    u32(0)  // sh_link
    u32(0)  // sh_info
    word(wide ? 8 : 4, wide)  // sh_addralign
    word(0, wide)  // sh_entsize
  }
}
