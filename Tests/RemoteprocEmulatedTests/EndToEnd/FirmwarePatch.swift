import Firmware
import Foundation
import Remoteproc
import RemoteprocEmulated
import SharedMemory
import Testing

/// A real example image with a few bytes changed, to make bad firmware: segments moved
/// outside the machine's memory, a vdev the host cannot drive, code that never serves its
/// rings. Offsets come from the parsed image; integers are written in its byte order.
struct FirmwarePatch {
  let image: ELFImage
  var bytes: [UInt8]

  init(_ example: String, for machine: EmulatedMachine) throws {
    image = try FirmwareImages.image(example, for: machine)
    bytes = image.bytes
  }

  mutating func put(_ value: UInt32, at offset: Int) {
    let wire = image.byteOrder == .little ? value.littleEndian : value.bigEndian
    for i in 0..<4 { bytes[offset + i] = UInt8(truncatingIfNeeded: wire >> (8 * i)) }
  }

  mutating func put(_ value: UInt16, at offset: Int) {
    let wire = image.byteOrder == .little ? value.littleEndian : value.bigEndian
    for i in 0..<2 { bytes[offset + i] = UInt8(truncatingIfNeeded: wire >> (8 * i)) }
  }

  func word(at offset: Int) -> UInt32 {
    let raw = (0..<4).reduce(UInt32(0)) { $0 | UInt32(bytes[offset + $1]) << (8 * $1) }
    return image.byteOrder == .little ? UInt32(littleEndian: raw) : UInt32(bigEndian: raw)
  }

  /// Moves the first loadable segment (both its addresses) to `address`.
  mutating func moveFirstSegment(to address: UInt32) throws {
    let segment = try #require(image.loadableSegments.first)
    let header = Int(word(at: 28)) + 32 * segment.index  // e_phoff; Elf32_Phdr is 32 bytes
    put(address, at: header + 8)  // p_vaddr
    put(address, at: header + 12)  // p_paddr
  }

  /// The file offset of the byte loaded at `address`.
  func fileOffset(of address: UInt64) throws -> Int {
    let segment = try #require(image.loadableSegments.first {
      address >= $0.virtualAddress && address - $0.virtualAddress < $0.fileSize
    })
    return Int(segment.fileOffset + (address - segment.virtualAddress))
  }

  /// Replaces the first instructions the core runs with "idle; branch back": the firmware
  /// boots but never reads its resource table or its rings.
  mutating func idleForever(on machine: EmulatedMachine) throws {
    switch machine.architecture {
    case .mips32:  // wait; b .-4; nop
      let at = try fileOffset(of: image.entryPoint)
      for (i, word) in [0x4200_0020, 0x1000_FFFE, 0] .enumerated() { put(UInt32(word), at: at + 4 * i) }
    case .riscv32:  // wfi; j .-4
      let at = try fileOffset(of: image.entryPoint)
      put(UInt32(0x1050_0073), at: at)
      put(UInt32(0xFFDF_F06F), at: at + 4)
    case .cortexM4:  // the reset vector's target: wfi; b.n .-2
      let reset = UInt64(word(at: try fileOffset(of: 4)) & ~1)
      let at = try fileOffset(of: reset)
      put(UInt16(0xBF30), at: at)
      put(UInt16(0xE7FD), at: at + 2)
    }
  }

  /// Sets `num_of_vrings` of the first vdev with `id` (Wire: `fw_rsc_vdev`, byte 21).
  mutating func setVringCount(ofVirtioDevice id: UInt32, to count: UInt8) throws {
    let location = try #require(try image.resourceTable())
    let entry = try #require(location.table.entries.first {
      if case .virtioDevice(let device) = $0.kind { return device.id == id }
      return false
    })
    bytes[Int(location.section.fileOffset) + entry.payloadOffset + 21] = count
  }

  /// Writes the image as `name` into a new directory, runs `body` with a store for it, and
  /// removes the directory.
  func withStore(name: String, _ body: (FirmwareStore) async throws -> Void) async throws {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("rproc-e2e-\(UUID())")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    try Data(bytes).write(to: directory.appendingPathComponent(name))
    try await body(FirmwareStore(directories: [directory.path]))
  }
}
