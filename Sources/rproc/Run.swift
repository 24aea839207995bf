import ArgumentParser
import DaemonConfiguration
import Firmware
import Foundation
import RPMsg
import RPMsgDrivers
import Remoteproc
import RemoteprocEmulated
import RemoteprocVirtio
import SharedMemory

/// `rproc run FIRMWARE [--machine M] [--cpus LIST] [--console]`: boot a firmware on an emulated
/// core, or as a native process when it is an executable of this host.
struct Run: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Boot a firmware on an emulated core (or as a native process), show its state and trace, and talk to its serial port.",
    discussion: """
      State changes and trace output go to standard error. With --console, standard input is \
      sent to the firmware's serial port (or its rpmsg-tty channel when it has no serial port) \
      and what the firmware sends back goes to standard output, until end of input; without \
      it, the firmware runs until interrupted (Ctrl-C).

      Example: echo 'Hello, Remote World' | rproc run firmware/build/case-invert-mips32.elf --console
      """)

  @Argument(help: "The firmware ELF file.")
  var firmware: String

  @Option(help: "The machine: \(RunSession.machineNames) (a native process on this host). Inferred from the ELF when absent.")
  var machine: String?

  @Option(help: "CPUs taken from the host for the core, as in rprocd's configuration (\"1\", \"2-3,5\"): the emulator runs there only and this process's other threads leave them.")
  var cpus: String?

  @Flag(help: "Join standard input and output to the serial port (or rpmsg-tty) until end of input.")
  var console = false

  @Flag(help: "Treat vring device address 0 as 'allocate', as Linux 4.x did (old firmware such as the MIPS example needs it).")
  var legacyVringAddress = false

  @Option(help: "Seconds to wait for the firmware's console device to appear.")
  var deviceTimeout = 5.0

  func validate() throws {
    if let machine, EmulatedMachine.named(machine) == nil, machine != RunSession.native {
      throw ValidationError("unknown machine '\(machine)'; choose one of \(RunSession.machineNames).")
    }
    guard deviceTimeout > 0 else { throw ValidationError("'--device-timeout' must be positive.") }
    _ = try cpuList()
  }

  /// `--cpus` as CPU numbers (none when absent).
  func cpuList() throws -> [Int] {
    guard let cpus else { return [] }
    do { return try CPUSet(parsing: cpus).cpus } catch {
      throw ValidationError("'--cpus' \(cpus.debugDescription) \(error.description).")
    }
  }

  func run() async throws {
    let session: RunSession
    do {
      session = try await RunSession.start(
        firmware: firmware, machineName: machine, cpus: try cpuList(), legacyVringAddress: legacyVringAddress)
    } catch let error as RunFailure {
      Output.error("rproc run: \(error.message)")
      throw ExitCode(1)
    }
    if console {
      let code = await session.runConsole(deviceTimeout: .milliseconds(Int(deviceTimeout * 1000)))
      await session.stop()
      if code != 0 { throw ExitCode(code) }
    } else {
      await session.runUntilInterrupted()
      await session.stop()
    }
  }
}

/// Why `rproc run` could not start, in one line that says what to do.
struct RunFailure: Error {
  var message: String
}
