import ArgumentParser
import Firmware
import Foundation

/// `rproc inspect FILE [--json]`: what a firmware image is and what it asks for.
struct Inspect: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Show a firmware image's class, byte order, machine, entry, segments and resource table.")

  @Argument(help: "The firmware ELF file.")
  var file: String

  @Flag(help: "Print JSON instead of text.")
  var json = false

  func run() throws {
    let image: ELFImage
    let location: ResourceTableLocation?
    do {
      guard let bytes = FileManager.default.contents(atPath: file) else {
        throw FirmwareError(.unreadable, "cannot read the file (missing, a directory, or no permission)")
      }
      image = try ELFImage(bytes: [UInt8](bytes))
      location = try image.resourceTable(required: false)
    } catch let error as FirmwareError {
      Output.error("rproc inspect: \(file): \(error.message)")
      throw ExitCode(1)
    }
    if json {
      try Output.json(Report(image: image, location: location))
    } else {
      print(Self.text(image: image, location: location, file: file), terminator: "")
    }
  }

  static func text(image: ELFImage, location: ResourceTableLocation?, file: String) -> String {
    var out = "\(file): \(image.elfClass), \(image.byteOrder.rawValue)-endian, "
    out += "\(image.machine) (e_machine \(image.machine.rawValue)), \(image.fileType)\n"
    out += "Entry point \(hex(image.entryPoint))\n\n"
    out += "Segments:\n"
    out += "  #  Type          Offset      PhysAddr    VirtAddr    FileSiz     MemSiz      Flg\n"
    for p in image.programHeaders {
      let type = p.typeName.padding(toLength: 13, withPad: " ", startingAt: 0)
      out += "  \(String(p.index).padding(toLength: 2, withPad: " ", startingAt: 0)) \(type) "
      out += [p.fileOffset, p.physicalAddress, p.virtualAddress, p.fileSize, p.memorySize]
        .map { hex($0) }.joined(separator: "  ")
      out += "  \(p.flagLetters)\n"
    }
    guard let location else { return out + "\nNo resource table found\n" }
    out += "\nResource table: section \(location.section.name), \(location.table.byteCount) bytes"
    if let da = location.loadedDeviceAddress { out += ", loaded at \(hex(da))" }
    out += "\n\n" + location.table.linuxDebugfsText
    for warning in location.table.warnings { out += "warning: \(warning)\n" }
    return out
  }
}

/// The JSON shape of `rproc inspect --json`.
struct Report: Encodable {
  struct Segment: Encodable {
    var index: Int
    var type: UInt32
    var offset: UInt64
    var paddr: UInt64
    var vaddr: UInt64
    var filesz: UInt64
    var memsz: UInt64
    var flags: UInt32
  }

  var `class`: Int
  var endianness: String
  var machine: UInt16
  var machine_name: String
  var type: UInt16
  var entry: UInt64
  var segments: [Segment]
  var resource_table: ResourceTableInfo?
  var resources: [ResourceEntry]
  var warnings: [String]

  struct ResourceTableInfo: Encodable {
    var size: Int
    var file_offset: UInt64
    var loaded_da: UInt64?
  }

  init(image: ELFImage, location: ResourceTableLocation?) {
    `class` = image.elfClass.bits
    endianness = image.byteOrder.rawValue
    machine = image.machine.rawValue
    machine_name = image.machine.description
    type = image.fileType.rawValue
    entry = image.entryPoint
    segments = image.programHeaders.map {
      Segment(
        index: $0.index, type: $0.type, offset: $0.fileOffset, paddr: $0.physicalAddress,
        vaddr: $0.virtualAddress, filesz: $0.fileSize, memsz: $0.memorySize, flags: $0.flags)
    }
    resource_table = location.map {
      ResourceTableInfo(size: $0.table.byteCount, file_offset: $0.section.fileOffset, loaded_da: $0.loadedDeviceAddress)
    }
    resources = location?.table.entries ?? []
    warnings = location?.table.warnings ?? []
  }
}
