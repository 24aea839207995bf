import Foundation

/// The committed fixture images (Fixtures/build.sh rebuilds them from Fixtures/fixture.c).
enum Fixtures {
  static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .appendingPathComponent("Fixtures")

  /// Architectures with a fixture: name → (ELF class bits, byte order, e_machine, load base).
  static let all: [(name: String, bits: Int, bigEndian: Bool, machine: UInt16, base: UInt64)] = [
    ("mipsel", 32, false, 8, 0x8000_0000),
    ("mips", 32, true, 8, 0x8000_0000),
    ("riscv32", 32, false, 243, 0x8000_0000),
    ("thumbv7em", 32, false, 40, 0),
    ("x86_64", 64, false, 62, 0x40_0000),
    ("aarch64", 64, false, 183, 0x40_0000),
  ]

  static var names: [String] { all.map(\.name) }

  static func bytes(_ name: String) throws -> [UInt8] {
    [UInt8](try Data(contentsOf: directory.appendingPathComponent("\(name).elf")))
  }

  static func path(_ name: String) -> String {
    directory.appendingPathComponent("\(name).elf").path
  }
}
