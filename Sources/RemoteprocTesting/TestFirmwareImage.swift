import Firmware
import Foundation
import SharedMemory

/// Builds small firmware images for tests: an ELF32 image with a code segment, a data
/// segment holding the resource table and a trace buffer, and whatever extra table entries a
/// test wants. The core loads it exactly as it loads real firmware.
public struct TestFirmwareImage: Sendable {
  /// Where the image is linked (inside ``TestPlatform``'s RAM window).
  public var base: UInt64 = TestPlatform.ramBase
  public var machine: ELFMachine = .arm
  public var byteOrder: ByteOrder = .little
  /// Bytes of the trace buffer (0: no trace entry).
  public var traceLength: UInt32 = 0x400
  /// Extra resource-table entries after the trace.
  public var entries: [ResourceTableBuilder.Entry] = []
  /// A marker written into the code segment, to tell images apart in memory.
  public var marker: UInt32 = 0xC0DE_0001
  /// No `.resource_table` section at all.
  public var withoutTable = false

  public init() {}

  /// Device address of the code segment (the entry point).
  public var codeAddress: UInt64 { base }
  /// Device address of the data segment: the resource table, then the trace buffer.
  public var dataAddress: UInt64 { base + 0x1000 }

  /// The table as it is in the image.
  public var tableBytes: [UInt8] {
    var all = entries
    if traceLength > 0 {
      all.insert(ResourceTableBuilder.trace("trace0", deviceAddress: UInt32(traceAddress), length: traceLength), at: 0)
    }
    return ResourceTableBuilder(all, byteOrder: byteOrder).build()
  }

  /// Device address of the trace buffer: after the table, 16-byte aligned.
  public var traceAddress: UInt64 {
    var probe = entries
    if traceLength > 0 { probe.insert(ResourceTableBuilder.trace("trace0", deviceAddress: 0, length: 0), at: 0) }
    let tableSize = ResourceTableBuilder(probe, byteOrder: byteOrder).build().count
    return dataAddress + UInt64((tableSize + 15) & ~15)
  }

  /// The ELF file.
  public func build() -> [UInt8] {
    var writer = ELFWriter(elfClass: .elf32, byteOrder: byteOrder, machine: machine, entryPoint: codeAddress)
    var code = ByteOrderBytes(order: byteOrder)
    code.u32(marker)
    code.bytes += [UInt8](repeating: 0, count: 60)
    writer.segments.append(.init(physicalAddress: codeAddress, data: code.bytes, flags: 5))
    let table = withoutTable ? [] : tableBytes
    let dataFile = withoutTable ? [UInt8](repeating: 0, count: 16) : table
    let dataEnd = traceLength > 0 && !withoutTable ? Int(traceAddress - dataAddress) + Int(traceLength) : dataFile.count
    writer.segments.append(
      .init(physicalAddress: dataAddress, data: dataFile, memorySize: UInt64(max(dataEnd, dataFile.count)), flags: 6))
    if !withoutTable {
      writer.sections.append(
        .init(name: ELFImage.resourceTableSectionName, address: dataAddress, data: table, inSegment: (1, 0)))
    }
    return writer.build()
  }

  /// Writes the image into `directory` as `name` and returns its path.
  @discardableResult
  public func write(to directory: URL, name: String) throws -> String {
    let url = directory.appendingPathComponent(name)
    try Data(build()).write(to: url)
    return url.path
  }
}

/// Appends integers in a byte order (a small local helper for building images).
struct ByteOrderBytes {
  let order: ByteOrder
  var bytes: [UInt8] = []
  mutating func u32(_ value: UInt32) {
    let ordered = value.convertingByteOrder(order).littleEndian
    bytes += (0..<4).map { UInt8(truncatingIfNeeded: ordered >> (8 * $0)) }
  }
}
