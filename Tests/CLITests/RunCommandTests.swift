import Foundation
import Testing

/// `rproc run` on the real example firmware (built by scripts/setup into firmware/build).
@Suite struct RunCommandTests {
  static func firmware(_ name: String) -> String {
    Rproc.repository.appendingPathComponent("firmware/build/\(name).elf").path
  }

  static let built = FileManager.default.fileExists(atPath: firmware("case-invert-mips32"))

  @Test(.enabled(if: built, "firmware/build is missing: run scripts/setup (or firmware/build.sh)"))
  func theReadmeCommandCaseInvertsOnMIPS32() throws {
    let result = try Rproc.run(
      ["run", Self.firmware("case-invert-mips32"), "--machine", "mips32", "--console"],
      stdin: "Hello, Remote World\n")
    #expect(result.stdout == "hELLO, rEMOTE wORLD\n")
    #expect(result.status == 0, "\(result.stderr)")
    #expect(result.stderr.contains("remoteproc0: offline → running"))
    #expect(result.stderr.contains("remoteproc0: running → offline"))
  }

  @Test(.enabled(if: built, "firmware/build is missing: run scripts/setup"), arguments: ["mips32be", "rv32", "cortex-m4"])
  func theMachineIsInferredFromTheELF(machine: String) throws {
    let input = "Mixed Case 42\n\nlast line\n"
    let result = try Rproc.run(["run", Self.firmware("case-invert-\(machine)"), "--console"], stdin: input)
    #expect(result.stdout == "mIXED cASE 42\n\nLAST LINE\n")
    #expect(result.status == 0, "\(result.stderr)")
    #expect(result.stderr.contains("\(machine) core"))
  }

  @Test(.enabled(if: built, "firmware/build is missing: run scripts/setup"))
  func withoutASerialPortTheConsoleIsTheRPMsgTTYChannel() throws {
    let result = try Rproc.run(["run", Self.firmware("rpmsg-echo-rv32"), "--console"], stdin: "Echo me\n")
    #expect(result.stdout == "Echo me\n")
    #expect(result.stderr.contains("console on the rpmsg-tty channel"))
    #expect(result.status == 0)
  }

  @Test(.enabled(if: built, "firmware/build is missing: run scripts/setup"))
  func legacyFirmwareNeedsTheLegacyOptionAndSaysSo() throws {
    let refused = try Rproc.run(["run", Self.firmware("case-invert-legacy-mips32"), "--console"], stdin: "x\n")
    #expect(refused.status == 1)
    #expect(refused.stderr.contains("try --legacy-vring-address"))
    let accepted = try Rproc.run(
      ["run", Self.firmware("case-invert-legacy-mips32"), "--console", "--legacy-vring-address"], stdin: "AbC\n")
    #expect(accepted.stdout == "aBc\n")
    #expect(accepted.status == 0)
  }

  @Test(.enabled(if: built, "firmware/build is missing: run scripts/setup"))
  func aFirmwareForAnotherMachineIsRefused() throws {
    let result = try Rproc.run(
      ["run", Self.firmware("case-invert-mips32"), "--machine", "rv32", "--console"], stdin: "x\n")
    #expect(result.status == 1)
    #expect(result.stdout.isEmpty)
    #expect(result.stderr.contains("cannot run on rv32"))
  }

  /// `--cpus` as in rprocd's configuration: the core runs on the last CPU (its own process,
  /// so the test process's CPU registry is not involved).
  @Test(
    .enabled(if: built, "firmware/build is missing: run scripts/setup"),
    .enabled(if: ProcessInfo.processInfo.activeProcessorCount >= 2, "one CPU: none can be taken from the host"))
  func theCoreRunsOnTheCPUsGivenAndBadListsAreRefused() throws {
    let last = ProcessInfo.processInfo.activeProcessorCount - 1
    let result = try Rproc.run(
      ["run", Self.firmware("case-invert-rv32"), "--cpus", "\(last)", "--console"], stdin: "On CPU\n")
    #expect(result.stdout == "oN cpu\n")
    #expect(result.status == 0, "\(result.stderr)")
    let syntax = try Rproc.run(["run", Self.firmware("case-invert-rv32"), "--cpus", "2-"])
    #expect(syntax.status == 64)
    #expect(syntax.stderr.contains("'--cpus' \"2-\" item 1, \"2-\", is not a CPU number or a range such as 2-3."))
    let all = try Rproc.run(["run", Self.firmware("case-invert-rv32"), "--cpus", "0-\(last)"])
    #expect(all.status == 1)
    #expect(all.stderr.hasPrefix("rproc run: cannot create the rv32 core: cpus: 0-\(last) would leave the host no CPU"))
  }

  /// An executable of this host runs as a native process (the process platform), found from
  /// its ELF header or named with --machine native; an emulated image cannot run natively.
  @Test(.enabled(if: built, "firmware/build is missing: run scripts/setup"))
  func aNativeFirmwareRunsAsAProcess() throws {
    let inferred = try Rproc.run(["run", Self.firmware("rpmsg-echo-native"), "--console"], stdin: "Native echo\n")
    #expect(inferred.stdout == "Native echo\n")
    #expect(inferred.status == 0, "\(inferred.stderr)")
    #expect(inferred.stderr.contains("remoteproc0: native process, firmware rpmsg-echo-native.elf"))
    #expect(inferred.stderr.contains("trace0: rpmsg-echo on native: hello"))
    let named = try Rproc.run(["run", Self.firmware("case-invert-rv32"), "--machine", "native"], stdin: "")
    #expect(named.status == 1)
    #expect(named.stderr.contains("cannot run as a native process here"), "\(named.stderr)")
  }

  @Test func badArgumentsAreRefusedWithUsage() throws {
    let machine = try Rproc.run(["run", "--machine", "z80", "fw.elf"])
    #expect(machine.status == 64)
    #expect(machine.stderr.contains("unknown machine 'z80'; choose one of mips32, mips32be, rv32, cortex-m4, native."))
    let missing = try Rproc.run(["run", "/nonexistent/fw.elf"])
    #expect(missing.status == 1)
    #expect(missing.stderr == "rproc run: /nonexistent/fw.elf: cannot read the file (missing, a directory, or no permission)\n")
  }
}
