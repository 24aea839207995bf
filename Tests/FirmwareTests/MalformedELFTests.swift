import Firmware
import SharedMemory
import Testing

/// Every malformed image is refused with the field, its offset and the numbers.
@Suite struct MalformedELFTests {
  /// An ELF32 little-endian image: one PT_LOAD of 16 bytes at 0x1000 with 16 bytes of bss.
  static let valid32: [UInt8] = {
    var writer = ELFWriter(elfClass: .elf32, byteOrder: .little, machine: .mips, entryPoint: 0x1000)
    writer.segments = [.init(physicalAddress: 0x1000, data: Array(0..<16), memorySize: 32)]
    writer.sections = [.init(name: ".text", address: 0x1000, data: Array(0..<16), inSegment: (0, 0))]
    return writer.build()
  }()

  static func patched(_ bytes: [UInt8], _ offset: Int, _ values: [UInt8]) -> [UInt8] {
    var copy = bytes
    copy.replaceSubrange(offset..<offset + values.count, with: values)
    return copy
  }

  static func le32(_ v: UInt32) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) } }

  func message(_ bytes: [UInt8]) -> String? {
    do {
      _ = try ELFImage(bytes: bytes)
      return nil
    } catch {
      #expect(error.code == .malformedImage)
      return error.message
    }
  }

  @Test func theBaseImageIsValid() throws {
    let image = try ELFImage(bytes: Self.valid32)
    #expect(image.loadableSegments.count == 1)
    #expect(image.section(named: ".text")?.address == 0x1000)
  }

  @Test func everyTruncatedPrefixThrows() throws {
    for name in Fixtures.names {
      let bytes = try Fixtures.bytes(name)
      for length in 0..<bytes.count {
        #expect(throws: FirmwareError.self, "\(name) prefix \(length)") {
          let image = try ELFImage(bytes: Array(bytes.prefix(length)))
          _ = try image.resourceTable(required: true)
        }
      }
    }
  }

  @Test func headerFieldsAreChecked() {
    let v = Self.valid32
    #expect(message(Array(v.prefix(51))) == "image is too small: 0x33 bytes, an ELF32 header needs 0x34")
    #expect(message(Self.patched(v, 0, [0x7F, 0x45, 0x4C, 0x47]))
      == "bad magic at 0x0: 0x7f 0x45 0x4c 0x47, expected 0x7f 0x45 0x4c 0x46 (\\x7fELF)")
    #expect(message(Self.patched(v, 4, [3])) == "unsupported class e_ident[EI_CLASS] at 0x4: 3, expected 1 or 2")
    #expect(message(Array(Self.patched(v, 4, [2]).prefix(60))) == "ELF64 header is too small: 0x3c bytes, needs 0x40")
    #expect(message(Self.patched(v, 5, [0])) == "unsupported byte order e_ident[EI_DATA] at 0x5: 0, expected 1 (LSB) or 2 (MSB)")
    #expect(message(Self.patched(v, 6, [2])) == "unsupported e_ident[EI_VERSION] at 0x6: 2, expected 1")
    #expect(message(Self.patched(v, 20, Self.le32(9))) == "unsupported e_version at 0x14: 9, expected 1")
    #expect(message(Self.patched(v, 42, [33, 0])) == "e_phentsize is 0x21, ELF32 program headers are 0x20 bytes")
    #expect(message(Self.patched(v, 44, [0, 0])) == "no loadable segments: e_phnum is 0")
    #expect(message(Self.patched(v, 44, [0xFF, 0xFF]))
      == "e_phnum is PN_XNUM (0xffff): extended program header numbering is not supported")
    #expect(message(Self.patched(v, 28, Self.le32(0xFFFF_FFF0)))
      == "program header (e_phoff) table at 0xfffffff0 with 1 entries of 0x20 bytes ends past the file of 0x\(String(v.count, radix: 16)) bytes")
    #expect(message(Self.patched(v, 46, [41, 0])) == "e_shentsize is 0x29, ELF32 section headers are 0x28 bytes")
    #expect(message(Self.patched(v, 50, [9, 0])) == "e_shstrndx 9 is not below e_shnum 3")
  }

  @Test func segmentFieldsAreChecked() {
    let v = Self.valid32
    let ph = 52  // the program header follows the ELF header
    #expect(message(Self.patched(v, ph + 16, Self.le32(64)))  // p_filesz > p_memsz
      == "segment 0 (p_paddr 0x1000): bad phdr p_filesz 0x40 > p_memsz 0x20")
    #expect(message(Self.patched(v, ph + 4, Self.le32(0xFFFF_FFF8)))  // p_offset near 4 GiB
      == "segment 0 (p_paddr 0x1000): truncated: p_offset 0xfffffff8 + p_filesz 0x10 needs 0x100000008 bytes, file has 0x\(String(v.count, radix: 16))")
    #expect(message(Self.patched(v, ph + 12, Self.le32(0xFFFF_FFF0)))  // paddr + memsz wraps
      == "segment 0 (p_paddr 0xfffffff0): p_paddr 0xfffffff0 + p_memsz 0x20 wraps the 32-bit address space")
    #expect(message(Self.patched(v, ph, Self.le32(6)))  // PT_PHDR: nothing left to load
      == "no loadable segments: none of the 1 program headers is PT_LOAD with p_memsz > 0")
  }

  @Test func sectionFieldsAreChecked() throws {
    let v = Self.valid32
    let shoff = Int(v[32]) | Int(v[33]) << 8 | Int(v[34]) << 16 | Int(v[35]) << 24
    let text = shoff + 40  // section 1
    #expect(message(Self.patched(v, text + 20, Self.le32(0x10_0000)))  // sh_size past the file
      == "section 1: sh_offset 0x\(String(v[text + 16], radix: 16)) + sh_size 0x100000 ends past the file of 0x\(String(v.count, radix: 16)) bytes")
    #expect(message(Self.patched(v, text, Self.le32(0x7777)))  // sh_name outside .shstrtab
      == "section 1: sh_name 0x7777 is not a NUL-terminated string inside the 0x11-byte name table")
  }

  @Test func bigEndianAndELF64ImagesRoundTrip() throws {
    for elfClass in [ELFClass.elf32, .elf64] {
      for order in ByteOrder.allCases {
        var writer = ELFWriter(
          elfClass: elfClass, byteOrder: order, machine: elfClass == .elf64 ? .aarch64 : .mips,
          entryPoint: 0x2000_0004)
        writer.segments = [.init(physicalAddress: 0x2000_0000, data: [1, 2, 3], memorySize: 8)]
        let image = try ELFImage(bytes: writer.build())
        #expect(image.elfClass == elfClass)
        #expect(image.byteOrder == order)
        #expect(image.entryPoint == 0x2000_0004)
        #expect(image.loadableSegments.first?.physicalAddress == 0x2000_0000)
        #expect(image.loadableSegments.first?.memorySize == 8)
      }
    }
  }
}

