/// A symbol from the image's symbol table. Wire: `Elf32_Sym` / `Elf64_Sym`.
public struct Symbol: Hashable, Sendable {
  public var name: String
  /// Wire: `st_value` (for functions and objects, their address).
  public var value: UInt64
  /// Wire: `st_size`.
  public var size: UInt64
  /// Wire: `st_info` (binding in the high nibble, type in the low).
  public var info: UInt8
  /// Wire: `st_shndx`.
  public var sectionIndex: UInt16
}

extension ELFImage {
  /// Every symbol of `.symtab` (`SHT_SYMTAB`), with names from its linked string table.
  /// Throws when the table or a name lies outside the file; an image without symbols
  /// yields an empty list.
  public func symbols() throws(FirmwareError) -> [Symbol] {
    guard let table = sections.first(where: { $0.type == Section.symbolTableType }) else { return [] }
    guard Int(table.link) < sections.count, sections[Int(table.link)].hasFileBytes else {
      throw FirmwareError(
        .malformedImage,
        "symbol table \(table.name): sh_link \(table.link) is not a string table among \(sections.count) sections")
    }
    let strings = sections[Int(table.link)]
    let size = elfClass.symbolSize
    let count = Int(table.size) / size
    var result: [Symbol] = []
    result.reserveCapacity(count)
    for index in 0..<count {
      let o = Int(table.fileOffset) + index * size
      let f = "symbol \(index)"
      let nameOffset = try reader.u32(o, "\(f) st_name")
      let wide = elfClass == .elf64
      let value = wide ? try reader.u64(o + 8, "\(f) st_value") : UInt64(try reader.u32(o + 4, "\(f) st_value"))
      let symbolSize = wide ? try reader.u64(o + 16, "\(f) st_size") : UInt64(try reader.u32(o + 8, "\(f) st_size"))
      let info = try reader.u8(o + (wide ? 4 : 12), "\(f) st_info")
      let shndx = try reader.u16(o + (wide ? 6 : 14), "\(f) st_shndx")
      guard UInt64(nameOffset) < max(strings.size, 1),
        let name = reader.cString(
          Int(strings.fileOffset) + Int(nameOffset), limit: Int(strings.size) - Int(nameOffset))
      else {
        throw FirmwareError(
          .malformedImage,
          "\(f): st_name \(hex(nameOffset)) is not a NUL-terminated string inside the \(hex(strings.size))-byte string table")
      }
      result.append(Symbol(name: name, value: value, size: symbolSize, info: info, sectionIndex: shndx))
    }
    return result
  }

  /// The first defined symbol called `name`.
  public func symbol(named name: String) throws(FirmwareError) -> Symbol {
    guard let symbol = try symbols().first(where: { $0.name == name && $0.sectionIndex != 0 }) else {
      throw FirmwareError(.notFound, "no symbol named \(name)")
    }
    return symbol
  }
}
