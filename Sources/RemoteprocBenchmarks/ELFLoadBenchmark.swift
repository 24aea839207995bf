import Firmware
import SharedMemory

/// `rproc bench elf-load`: load a 2 MiB firmware (parse, validate the header, segments and
/// resource table, copy the segments into shared memory and zero their tails) against a
/// plain copy of the same bytes into the same memory, measured in the same run.
public struct ELFLoadBenchmark: Sendable {
  public struct Result: Codable, Sendable {
    /// Bytes of the firmware file.
    public var firmware_bytes: Int
    /// Median nanoseconds to parse, validate and load it.
    public var load_ns: Double
    /// Median nanoseconds to copy the same number of bytes with `memcpy`.
    public var memcpy_ns: Double
    /// `load_ns / memcpy_ns`. Target: ≤ 2.
    public var ratio: Double
    public var runs: Int
  }

  public var firmwareBytes: Int
  public var runs: Int

  public init(firmwareBytes: Int = 2 << 20, runs: Int = 101) {
    self.firmwareBytes = firmwareBytes
    self.runs = runs
  }

  /// A MIPS32 firmware of about `firmwareBytes`: text, data with a resource table, bss.
  public static func makeFirmware(bytes: Int, base: UInt32 = 0x8000_0000) -> [UInt8] {
    let table = ResourceTableBuilder([
      ResourceTableBuilder.carveout("heap", deviceAddress: ResourceTable.anyAddress, length: 0x10000),
      ResourceTableBuilder.trace("trace0", deviceAddress: base + 0x3F_0000, length: 0x1000),
      ResourceTableBuilder.virtioDevice(id: 7, features: 1, ringSize: 256),
    ]).build()
    let dataBytes = 64 << 10
    let textBytes = max(4096, bytes - dataBytes - 4096)
    var generator = SplitMix64(seed: 0x5EED)
    let text = (0..<textBytes).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
    var data = [UInt8](repeating: 0, count: dataBytes)
    data.replaceSubrange(0..<table.count, with: table)
    var writer = ELFWriter(elfClass: .elf32, byteOrder: .little, machine: .mips, entryPoint: UInt64(base))
    writer.segments = [
      .init(physicalAddress: UInt64(base), data: text, flags: 5),
      .init(
        physicalAddress: UInt64(base) + UInt64(textBytes), data: data,
        memorySize: UInt64(dataBytes + (32 << 10)), flags: 6),
    ]
    writer.sections = [
      .init(name: ELFImage.resourceTableSectionName, address: UInt64(base) + UInt64(textBytes), data: table, inSegment: (1, 0))
    ]
    return writer.build()
  }

  public func run() throws -> Result {
    let file = Self.makeFirmware(bytes: firmwareBytes)
    let memory = try SharedMapping.memfd(name: "elf-load-bench", count: 4 << 20)
    let region = memory.region
    let base: UInt64 = 0x8000_0000
    func translate(_ da: UInt64, _ length: Int) -> MemoryRegion? {
      guard da >= base else { return nil }
      return try? region.slice(at: Int(da - base), length: length)
    }
    var loaded = 0
    let load = try Stopwatch.median(runs: runs) {
      let image = try ELFImage(bytes: file)
      _ = try image.resourceTable(required: true)
      try image.loadSegments(into: translate)
      loaded &+= 1
    }
    let copy = try Stopwatch.median(runs: runs) {
      try region.write(file, at: 0)
    }
    return Result(firmware_bytes: file.count, load_ns: load, memcpy_ns: copy, ratio: load / copy, runs: runs)
  }
}

/// A small deterministic generator for benchmark and test data.
public struct SplitMix64: RandomNumberGenerator, Sendable {
  private var state: UInt64
  public init(seed: UInt64) { state = seed }
  public mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
}
