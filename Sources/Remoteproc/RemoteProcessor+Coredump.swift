import Firmware
import SharedMemory

extension RemoteProcessor {
  /// Builds an ELF core of the remote's memory: one `PT_LOAD` per carveout (vrings and
  /// buffer pools included) and per loaded firmware segment outside them, then a `PT_NOTE`
  /// saying what crashed. Linux: `rproc_coredump` with the default dump segments.
  func takeCoredump(_ crash: (type: CrashType, details: String)) {
    guard let bytes = buildCore(crash) else { return }
    coredumps.append(Coredump(bytes: bytes, crash: crash.type, details: crash.details, number: crashCount))
    if coredumps.count > options.coredumpLimit { coredumps.removeFirst(coredumps.count - options.coredumpLimit) }
    events.send(.coredumpTaken(processor: deviceName, bytes: bytes.count))
  }

  func buildCore(_ crash: (type: CrashType, details: String)) -> [UInt8]? {
    guard let session else { return nil }
    let format = session.coreFormat ?? CoreFormat(elfClass: .elf32, byteOrder: platform.byteOrder, machine: ELFMachine(rawValue: 0))
    var writer = ELFWriter(
      elfClass: format.elfClass, byteOrder: format.byteOrder, fileType: .core, machine: format.machine,
      entryPoint: session.bootAddress)
    var ranges: [(UInt64, UInt64)] = []
    for carveout in session.carveouts {
      guard let data = try? carveout.region.bytes(at: 0, count: carveout.length) else { continue }
      writer.segments.append(.init(physicalAddress: carveout.deviceAddress, data: data, flags: 6))
      ranges.append((carveout.deviceAddress, carveout.deviceAddress + UInt64(carveout.length)))
    }
    for segment in session.segments where !ranges.contains(where: { $0.0 <= segment.physicalAddress && segment.physicalAddress + segment.memorySize <= $0.1 }) {
      guard let region = translate(segment.physicalAddress, Int(segment.memorySize)),
        let data = try? region.bytes(at: 0, count: region.count)
      else { continue }
      writer.segments.append(
        .init(physicalAddress: segment.physicalAddress, virtualAddress: segment.virtualAddress, data: data, flags: segment.flags))
    }
    let text = Array("\(deviceName) \(firmwareName): \(crash.type): \(crash.details)".utf8)
    writer.segments.append(.init(type: 4, physicalAddress: 0, data: Self.note(name: "REMOTEPROC", type: 1, descriptor: text, order: format.byteOrder)))
    return writer.build()
  }

  /// An ELF note: namesz, descsz, type, then the NUL-terminated name and the descriptor,
  /// each padded to 4 bytes.
  static func note(name: String, type: UInt32, descriptor: [UInt8], order: ByteOrder) -> [UInt8] {
    func word(_ value: UInt32) -> [UInt8] {
      let ordered = value.convertingByteOrder(order).littleEndian
      return (0..<4).map { UInt8(truncatingIfNeeded: ordered >> (8 * $0)) }
    }
    func padded(_ bytes: [UInt8]) -> [UInt8] { bytes + [UInt8](repeating: 0, count: (4 - bytes.count % 4) % 4) }
    let nameBytes = Array(name.utf8) + [0]
    return word(UInt32(nameBytes.count)) + word(UInt32(descriptor.count)) + word(type) + padded(nameBytes)
      + padded(descriptor)
  }
}
