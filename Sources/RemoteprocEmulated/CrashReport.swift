import CRemoteprocEmulatedShims

/// What went wrong on an emulated core, pushed to the remoteproc core when the guest dies.
///
/// Linux: the platform driver's call to `rproc_report_crash(rproc, type)`; ``category`` is that
/// `type`, and the rest (kind, PC, address) is what the emulator saw.
public struct CrashReport: Hashable, Sendable, CustomStringConvertible {
  /// What the guest did.
  public enum Kind: String, Hashable, Sendable, CaseIterable {
    /// An undefined or reserved instruction (MIPS RI, RISC-V illegal instruction, Arm UDEF).
    case invalidInstruction = "invalid instruction"
    /// A load from an address with no memory behind it.
    case badRead = "bad read"
    /// A store to an address with no memory behind it.
    case badWrite = "bad write"
    /// An instruction fetch from an address with no memory behind it, or in the wrong state.
    case badFetch = "bad fetch"
    /// A load or store the architecture requires to be aligned and that was not.
    case misalignedAccess = "misaligned access"
    /// The guest ran without idling or petting the watchdog for longer than the timeout.
    case watchdog = "watchdog"
    /// The firmware asked to be stopped (SDK: `rproc_abort`), with a reason code.
    case abort = "firmware abort"
    /// Another synchronous CPU exception (syscall, break, breakpoint…).
    case cpuException = "CPU exception"
    /// The emulator itself refused to continue.
    case emulatorFailure = "emulator failure"
  }

  /// Linux: `enum rproc_crash_type`.
  public enum Category: String, Hashable, Sendable {
    /// Linux: `RPROC_MMUFAULT`.
    case mmuFault = "mmufault"
    /// Linux: `RPROC_WATCHDOG`.
    case watchdog = "watchdog"
    /// Linux: `RPROC_FATAL_ERROR`.
    case fatalError = "fatal error"
  }

  public var kind: Kind
  /// The program counter of the faulting instruction, or, when ``isPCPrecise`` is false, the
  /// start of the basic block that contains it (Unicorn 2.0.1 only knows the block for data
  /// faults, and for every MIPS exception). For an abort, the PC the firmware reported.
  public var pc: UInt64
  public var isPCPrecise: Bool
  /// The data or fetch address that faulted, when known.
  public var address: UInt64?
  /// The CPU exception number, the abort reason code, the watchdog timeout in nanoseconds,
  /// or the `uc_err`, depending on ``kind``.
  public var detail: UInt64

  public init(kind: Kind, pc: UInt64, isPCPrecise: Bool, address: UInt64?, detail: UInt64) {
    self.kind = kind
    self.pc = pc
    self.isPCPrecise = isPCPrecise
    self.address = address
    self.detail = detail
  }

  public var category: Category {
    switch kind {
    case .badRead, .badWrite, .badFetch, .misalignedAccess: .mmuFault
    case .watchdog: .watchdog
    case .invalidInstruction, .abort, .cpuException, .emulatorFailure: .fatalError
    }
  }

  public var description: String {
    var text = "\(kind.rawValue) (\(category.rawValue)) at pc 0x\(String(pc, radix: 16))"
    if !isPCPrecise { text += " (block start)" }
    if let address { text += ", address 0x\(String(address, radix: 16))" }
    switch kind {
    case .abort: text += ", reason \(detail)"
    case .watchdog: text += ", after \(detail / 1_000_000) ms without progress"
    case .cpuException, .invalidInstruction, .misalignedAccess, .badRead, .badWrite, .badFetch:
      if detail != 0 { text += ", exception \(detail)" }
    case .emulatorFailure: text += ", uc_err \(detail)"
    }
    return text
  }

  /// Reads the report the C run loop recorded for `slot`.
  init?(slot: Int32) {
    let kindCode = Int32(truncatingIfNeeded: rproc_emu_crash_field(slot, RPROC_EMU_CRASH_FIELD_KIND))
    let kind: Kind
    switch kindCode {
    case RPROC_EMU_CRASH_INVALID_INSTRUCTION: kind = .invalidInstruction
    case RPROC_EMU_CRASH_BAD_READ: kind = .badRead
    case RPROC_EMU_CRASH_BAD_WRITE: kind = .badWrite
    case RPROC_EMU_CRASH_BAD_FETCH: kind = .badFetch
    case RPROC_EMU_CRASH_MISALIGNED: kind = .misalignedAccess
    case RPROC_EMU_CRASH_WATCHDOG: kind = .watchdog
    case RPROC_EMU_CRASH_ABORT: kind = .abort
    case RPROC_EMU_CRASH_EXCEPTION: kind = .cpuException
    case RPROC_EMU_CRASH_EMULATOR: kind = .emulatorFailure
    default: return nil
    }
    let address = rproc_emu_crash_field(slot, RPROC_EMU_CRASH_FIELD_ADDRESS)
    self.init(
      kind: kind,
      pc: rproc_emu_crash_field(slot, RPROC_EMU_CRASH_FIELD_PC),
      isPCPrecise: rproc_emu_crash_field(slot, RPROC_EMU_CRASH_FIELD_PC_PRECISE) != 0,
      address: address == 0 ? nil : address,
      detail: rproc_emu_crash_field(slot, RPROC_EMU_CRASH_FIELD_DETAIL))
  }
}
