import CUnicorn
import SharedMemory

/// The machines the project ships. Each is documented in `docs/machines/<name>.md`, and the
/// SDK's `firmware/sdk/include/rproc/machine.h` carries the same numbers for firmware.
extension EmulatedMachine {
  static let mebibyte = 1 << 20

  /// MIPS32r2 (24Kf), little-endian: the seed system, a CPU stolen from Linux that boots
  /// 32-bit firmware with the UHI coprocessor convention.
  public static let mips32 = mips(name: "mips32", byteOrder: .little)

  /// MIPS32r2 (24Kf), big-endian (`-EB`): the table and rings are big-endian too.
  public static let mips32BigEndian = mips(name: "mips32be", byteOrder: .big)

  /// RV32IMAC in machine mode, RAM at 0x8000_0000 like QEMU's `virt`.
  public static let riscv32 = EmulatedMachine(
    name: "rv32", architecture: .riscv32, byteOrder: .little, elfMachine: 243,
    memory: [
      Window(
        name: "firmware", physicalAddress: 0x8000_0000, deviceAddress: 0x8000_0000,
        size: 16 * mebibyte, usage: .firmware),
      Window(
        name: "carveouts", physicalAddress: 0x8100_0000, deviceAddress: 0x8100_0000,
        size: 48 * mebibyte, usage: .carveouts),
    ],
    aliases: [],
    mailboxPhysicalAddress: 0x0200_0000, mailboxDeviceAddress: 0x0200_0000,
    boot: .entryPoint(registers: [
      BootRegister(name: "a0", value: 0, unicornID: Int32(UC_RISCV_REG_A0.rawValue)),
      BootRegister(name: "a1", value: 0, unicornID: Int32(UC_RISCV_REG_A1.rawValue)),
    ]),
    interrupts: .softwareInterrupt)

  /// Cortex-M4 (ARMv7E-M, Thumb): vector table at 0, code and data in the first window.
  public static let cortexM4 = EmulatedMachine(
    name: "cortex-m4", architecture: .cortexM4, byteOrder: .little, elfMachine: 40,
    memory: [
      Window(
        name: "firmware", physicalAddress: 0x0000_0000, deviceAddress: 0x0000_0000,
        size: 16 * mebibyte, usage: .firmware),
      Window(
        name: "carveouts", physicalAddress: 0x2000_0000, deviceAddress: 0x2000_0000,
        size: 48 * mebibyte, usage: .carveouts),
    ],
    aliases: [],
    mailboxPhysicalAddress: 0x4000_0000, mailboxDeviceAddress: 0x4000_0000,
    boot: .vectorTable(deviceAddress: 0),
    interrupts: .exception(irq: 0, vectorTable: 0))

  static func mips(name: String, byteOrder: ByteOrder) -> EmulatedMachine {
    func register(_ name: String, _ value: UInt64, _ id: UC_MIPS_REG) -> BootRegister {
      BootRegister(name: name, value: value, unicornID: Int32(id.rawValue))
    }
    return EmulatedMachine(
      name: name, architecture: .mips32, byteOrder: byteOrder, elfMachine: 8,
      memory: [
        Window(
          name: "firmware", physicalAddress: 0, deviceAddress: 0,
          size: 16 * mebibyte, usage: .firmware),
        Window(
          name: "carveouts", physicalAddress: 0x0100_0000, deviceAddress: 0x0100_0000,
          size: 48 * mebibyte, usage: .carveouts),
      ],
      aliases: [
        AddressAlias(
          name: "kseg0", deviceAddress: 0x8000_0000, physicalAddress: 0, size: 0x2000_0000),
        AddressAlias(
          name: "kseg1", deviceAddress: 0xA000_0000, physicalAddress: 0, size: 0x2000_0000),
      ],
      mailboxPhysicalAddress: 0x1F00_0000, mailboxDeviceAddress: 0xBF00_0000,
      // UHI coprocessor boot (the seed driver's fw_entry(-3, ipi_to_remote, ipi_from_remote, 0)).
      boot: .entryPoint(registers: [
        register("a0", 0xFFFF_FFFD, UC_MIPS_REG_A0),
        register("a1", 2, UC_MIPS_REG_A1),
        register("a2", 3, UC_MIPS_REG_A2),
        register("a3", 0, UC_MIPS_REG_A3),
      ]),
      interrupts: .handlerCall(line: 2, magicReturn: 0xBFC0_0480))
  }

  /// Every shipped machine.
  public static let all: [EmulatedMachine] = [.mips32, .mips32BigEndian, .riscv32, .cortexM4]

  /// The shipped machine called `name` (`mips32`, `mips32be`, `rv32`, `cortex-m4`).
  public static func named(_ name: String) -> EmulatedMachine? {
    all.first { $0.name == name }
  }

  /// The shipped machine that runs ELF32 firmware with this `e_machine` and `EI_DATA`
  /// (1 little, 2 big), or nil.
  public static func forELF(machine: UInt16, dataEncoding: UInt8) -> EmulatedMachine? {
    all.first {
      $0.elfMachine == machine && ($0.byteOrder == .little ? 1 : 2) == dataEncoding
    }
  }
}

extension EmulatedMachine: CustomStringConvertible {
  public var description: String { name }
}
