import SharedMemory

/// A description, in data, of one emulated SoC: its CPU, its memory, its mailbox, how it boots
/// and how host kicks reach it. The four machines the project ships are in
/// `EmulatedMachine+Catalog.swift` and documented in `docs/machines/`.
public struct EmulatedMachine: Hashable, Sendable {
  /// The instruction set the core runs.
  public enum Architecture: String, Hashable, Sendable {
    /// MIPS32r2, 24Kf CPU model.
    case mips32
    /// RV32IMAC in machine mode.
    case riscv32
    /// ARMv7E-M, Cortex-M4 CPU model, Thumb only.
    case cortexM4
  }

  /// How the guest starts.
  public enum Boot: Hashable, Sendable {
    /// Jump to the ELF entry point with these registers set (MIPS UHI, RISC-V a0/a1).
    case entryPoint(registers: [BootRegister])
    /// Load the stack pointer from word 0 and the entry point from word 1 of the vector table
    /// at this device address, as Cortex-M hardware does at reset.
    case vectorTable(deviceAddress: UInt64)
  }

  /// How a host kick (Linux: `rproc_ops.kick`) interrupts the guest.
  public enum InterruptDelivery: Hashable, Sendable {
    /// MIPS: Unicorn has no EPC/Cause, so the host saves the context, calls the handler the
    /// firmware registered in the mailbox `VECTOR` register with `a0 = line` and
    /// `ra = magicReturn`, and restores the context when the handler returns there. Delivered
    /// when Status.IE = 1, Status.EXL = 0 and Status.IM[line] = 1.
    case handlerCall(line: Int, magicReturn: UInt64)
    /// RISC-V: the host raises the supervisor software interrupt (`mip.SSIP`, as an ACLINT
    /// SSWI device would) and the emulated CPU takes the trap itself, in machine mode
    /// (`mideleg` = 0): `mepc`, `mcause` = 0x8000_0001, `mstatus.MPIE/MIE/MPP`, jump to
    /// `mtvec` (direct or vectored); the firmware returns with `mret`. Raised when
    /// mstatus.MIE = 1 and mie.SSIE = 1; reading the mailbox `PENDING` lowers it.
    case softwareInterrupt
    /// Cortex-M: the host emulates exception entry for external interrupt `irq` (vector
    /// 16 + irq of the table at `vectorTable`): pushes the basic frame on MSP, sets
    /// LR = EXC_RETURN 0xFFFFFFF9, and pops it when the handler branches there.
    /// Delivered when PRIMASK = 0.
    case exception(irq: Int, vectorTable: UInt64)
  }

  /// A short name, as used on the command line and in firmware file names ("mips32").
  public var name: String
  public var architecture: Architecture
  /// The byte order of the CPU, of the firmware and of every structure it shares.
  public var byteOrder: ByteOrder
  /// The ELF `e_machine` firmware for this machine carries (EM_MIPS 8, EM_RISCV 243, EM_ARM 40).
  public var elfMachine: UInt16
  /// Memory windows, in ascending physical order.
  public var memory: [Window]
  /// Extra device-address views of the windows (MIPS kseg0/kseg1).
  public var aliases: [AddressAlias]
  /// Guest-physical address of the 4 KiB mailbox page (registers in `docs/machines/`).
  public var mailboxPhysicalAddress: UInt64
  /// The address firmware uses for the mailbox.
  public var mailboxDeviceAddress: UInt64
  public var boot: Boot
  public var interrupts: InterruptDelivery

  public init(
    name: String, architecture: Architecture, byteOrder: ByteOrder, elfMachine: UInt16,
    memory: [Window], aliases: [AddressAlias], mailboxPhysicalAddress: UInt64,
    mailboxDeviceAddress: UInt64, boot: Boot, interrupts: InterruptDelivery
  ) {
    self.name = name
    self.architecture = architecture
    self.byteOrder = byteOrder
    self.elfMachine = elfMachine
    self.memory = memory
    self.aliases = aliases
    self.mailboxPhysicalAddress = mailboxPhysicalAddress
    self.mailboxDeviceAddress = mailboxDeviceAddress
    self.boot = boot
    self.interrupts = interrupts
  }

  /// The ELF class firmware for every shipped machine uses (ELFCLASS32).
  public var elfClass: UInt8 { 1 }

  /// Total bytes of memory the machine's windows need.
  public var memoryByteCount: Int { memory.reduce(0) { $0 + $1.size } }

  /// Translates a device address range to guest-physical, or nil unless one window (through
  /// its own device address or an alias) covers all of it.
  public func physicalAddress(forDeviceAddress address: UInt64, length: Int) -> UInt64? {
    guard length >= 0 else { return nil }
    for alias in aliases where address >= alias.deviceAddress {
      let offset = address - alias.deviceAddress
      guard offset < alias.size, alias.size - offset >= UInt64(length) else { continue }
      let physical = alias.physicalAddress + offset
      if window(containingPhysical: physical, length: length) != nil { return physical }
    }
    for window in memory where window.containsDevice(address, length: length) {
      return window.physicalAddress + (address - window.deviceAddress)
    }
    return nil
  }

  /// The window holding `[physical, physical + length)`, with the offset into it.
  func window(containingPhysical physical: UInt64, length: Int) -> (index: Int, offset: Int)? {
    guard length >= 0 else { return nil }
    for (index, window) in memory.enumerated() where physical >= window.physicalAddress {
      let offset = physical - window.physicalAddress
      if offset <= UInt64(window.size), UInt64(window.size) - offset >= UInt64(length) {
        return (index, Int(offset))
      }
    }
    return nil
  }

  /// Throws unless the windows are page aligned, non-empty and do not overlap.
  public func validate() throws(EmulationError) {
    guard !memory.isEmpty else {
      throw EmulationError(.invalidMachine, "\(name): no memory windows")
    }
    var end: UInt64 = 0
    for window in memory {
      guard window.size > 0, window.size % 4096 == 0, window.physicalAddress % 4096 == 0 else {
        throw EmulationError(
          .invalidMachine,
          "\(name): window \(window.name) at 0x\(String(window.physicalAddress, radix: 16)) "
            + "size 0x\(String(window.size, radix: 16)) is not 4 KiB aligned")
      }
      guard window.physicalAddress >= end else {
        throw EmulationError(
          .invalidMachine,
          "\(name): window \(window.name) at 0x\(String(window.physicalAddress, radix: 16)) "
            + "overlaps the previous one ending at 0x\(String(end, radix: 16))")
      }
      end = window.physicalAddress + UInt64(window.size)
    }
  }
}

/// A register the boot convention sets before the first instruction.
public struct BootRegister: Hashable, Sendable {
  /// The ABI name ("a0").
  public var name: String
  public var value: UInt64
  /// The Unicorn register id (`UC_MIPS_REG_A0`…).
  public var unicornID: Int32

  public init(name: String, value: UInt64, unicornID: Int32) {
    self.name = name
    self.value = value
    self.unicornID = unicornID
  }
}
