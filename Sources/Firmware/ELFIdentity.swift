/// ELF file class. Wire: `e_ident[EI_CLASS]`.
public enum ELFClass: UInt8, Hashable, Sendable, CustomStringConvertible {
  case elf32 = 1
  case elf64 = 2

  /// 32 or 64.
  public var bits: Int { self == .elf32 ? 32 : 64 }
  public var description: String { "ELF\(bits)" }

  var headerSize: Int { self == .elf32 ? 52 : 64 }
  var programHeaderSize: Int { self == .elf32 ? 32 : 56 }
  var sectionHeaderSize: Int { self == .elf32 ? 40 : 64 }
  var symbolSize: Int { self == .elf32 ? 16 : 24 }
  /// The largest address the class can express.
  var addressLimit: UInt64 { self == .elf32 ? UInt64(UInt32.max) : UInt64.max }
}

/// The processor an image was built for. Wire: `e_machine`.
public struct ELFMachine: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
  public var rawValue: UInt16
  public init(rawValue: UInt16) { self.rawValue = rawValue }

  /// `EM_386`.
  public static let i386 = Self(rawValue: 3)
  /// `EM_MIPS`, both byte orders.
  public static let mips = Self(rawValue: 8)
  /// `EM_PPC`.
  public static let powerPC = Self(rawValue: 20)
  /// `EM_ARM`, including Cortex-M.
  public static let arm = Self(rawValue: 40)
  /// `EM_X86_64`.
  public static let x86_64 = Self(rawValue: 62)
  /// `EM_TI_C6000`, the C6x DSPs of TI SoCs.
  public static let tiC6000 = Self(rawValue: 140)
  /// `EM_AARCH64`.
  public static let aarch64 = Self(rawValue: 183)
  /// `EM_RISCV`.
  public static let riscv = Self(rawValue: 243)
  /// `EM_XTENSA` (DSPs of i.MX and others).
  public static let xtensa = Self(rawValue: 94)

  public var description: String {
    switch self {
    case .i386: "Intel 80386"
    case .mips: "MIPS"
    case .powerPC: "PowerPC"
    case .arm: "ARM"
    case .x86_64: "x86-64"
    case .tiC6000: "TI C6000"
    case .aarch64: "AArch64"
    case .riscv: "RISC-V"
    case .xtensa: "Xtensa"
    default: "machine \(rawValue)"
    }
  }
}

/// The kind of ELF file. Wire: `e_type`.
public struct ELFFileType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
  public var rawValue: UInt16
  public init(rawValue: UInt16) { self.rawValue = rawValue }

  public static let relocatable = Self(rawValue: 1)
  public static let executable = Self(rawValue: 2)
  public static let sharedObject = Self(rawValue: 3)
  public static let core = Self(rawValue: 4)

  public var description: String {
    switch self {
    case .relocatable: "REL (relocatable)"
    case .executable: "EXEC (executable)"
    case .sharedObject: "DYN (shared object or position-independent executable)"
    case .core: "CORE (core dump)"
    default: "type \(rawValue)"
    }
  }
}
