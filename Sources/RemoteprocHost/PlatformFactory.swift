import DaemonConfiguration
import Glibc
import Remoteproc
import RemoteprocEmulated
import RemoteprocNative
import RemoteprocProcess

/// Why a processor's platform could not be made.
public struct PlatformFactoryError: Error, Hashable, Sendable, CustomStringConvertible {
  /// The configuration key at fault (`processor.remoteproc0.platform`).
  public var key: String
  public var message: String

  public init(key: String, _ message: String) {
    self.key = key
    self.message = message
  }

  public var description: String { "\(key): \(message)" }
}

/// Makes the platform a processor runs on (Linux: the platform driver that registers a
/// `struct rproc`), from rprocd's configuration or from `rproc run`'s choices. One case per
/// platform: adding one is a case here and its `import`.
public enum PlatformFactory {
  /// The platform `configuration` describes.
  public static func makePlatform(
    for configuration: ProcessorConfiguration
  ) throws(PlatformFactoryError) -> any RemoteProcessorPlatform {
    let key = "processor.\(configuration.deviceName)"
    switch configuration.platform {
    case .emulated:
      guard let choice = configuration.machine else {
        throw PlatformFactoryError(key: key + ".machine", "an emulated core needs a machine")
      }
      let machine = try emulatedMachine(choice, memory: configuration.memory, key: key + ".memory")
      return try emulated(
        machine, options: .init(cpus: configuration.cpus?.cpus ?? []), name: configuration.deviceName, key: key)
    case .process:
      return try process(configuration, key: key)
    }
  }

  /// A native-process core for `rproc run`: the firmware dies with the command
  /// (`PR_SET_PDEATHSIG`), and its state file is named after the command's pid, so it never
  /// adopts a firmware another host left running.
  public static func process(runningWith cpus: [Int], doorbell: DoorbellMode = .sleep) throws(PlatformFactoryError) -> ProcessPlatform {
    let options = ProcessPlatform.Options(cpus: cpus, doorbell: doorbell, exitsWithHost: true)
    do {
      return try ProcessPlatform(name: "rproc-run-\(getpid())", options: options)
    } catch {
      throw PlatformFactoryError(key: "native", "cannot create the process core: \(error.message)")
    }
  }

  /// A native-process core named after the processor's device name (its state file is
  /// `<state-directory>/remoteprocN.json`); when that file names a firmware that still runs,
  /// the platform adopts it and the processor starts `detached`.
  public static func process(_ configuration: ProcessorConfiguration, key: String) throws(PlatformFactoryError) -> ProcessPlatform {
    let settings = configuration.process ?? ProcessSettings()
    var options = ProcessPlatform.Options(
      cpus: configuration.cpus?.cpus ?? [], memorySize: Int(clamping: settings.memorySize),
      doorbell: settings.doorbell == .adaptive ? .adaptive : .sleep, stateDirectory: settings.stateDirectory)
    options.watchdog = settings.watchdogMilliseconds.map { .milliseconds(Int64(clamping: $0)) }
    do {
      return try ProcessPlatform(name: configuration.deviceName, options: options)
    } catch {
      throw PlatformFactoryError(key: key, "cannot create the process core: \(error.message)")
    }
  }

  /// An emulated core of `machine`, named `name` in messages and the CPU registry (rprocd:
  /// the device name), whose owner thread runs on `options.cpus` (taken from the host while
  /// it runs).
  public static func emulated(
    _ machine: EmulatedMachine, options: EmulatedCore.Options = .init(), name: String? = nil, key: String = "machine"
  ) throws(PlatformFactoryError) -> EmulatedPlatform {
    do {
      return try EmulatedPlatform(machine: machine, options: options, name: name)
    } catch where error.code == .invalidCPUs {
      throw PlatformFactoryError(key: key, "cannot create the \(machine.name) core: \(error.message)")
    } catch {
      throw PlatformFactoryError(key: key, "cannot create the \(machine.name) core: \(error)")
    }
  }

  /// The shipped machine, with its memory map replaced by `memory` when that is not empty
  /// (each window at physical address = device address; `pool` windows take carveouts).
  public static func emulatedMachine(
    _ choice: ProcessorConfiguration.Machine, memory: [MemoryWindowConfiguration], key: String = "memory"
  ) throws(PlatformFactoryError) -> EmulatedMachine {
    guard var machine = EmulatedMachine.named(choice.rawValue) else {
      throw PlatformFactoryError(key: key, "no emulated machine is called \(choice.rawValue)")
    }
    guard !memory.isEmpty else { return machine }
    machine.memory = memory.sorted { $0.deviceAddress < $1.deviceAddress }.map { window in
      EmulatedMachine.Window(
        name: window.name, physicalAddress: window.deviceAddress, deviceAddress: window.deviceAddress,
        size: Int(window.size), usage: window.kind == .pool ? [.firmware, .carveouts] : [.firmware])
    }
    let mailbox = machine.mailboxPhysicalAddress
    if let clash = machine.memory.first(where: { mailbox >= $0.physicalAddress && mailbox < $0.physicalAddress + UInt64($0.size) }) {
      throw PlatformFactoryError(
        key: key, "window \(clash.name) covers the \(machine.name) mailbox at 0x\(String(mailbox, radix: 16)); move it")
    }
    do { try machine.validate() } catch {
      throw PlatformFactoryError(key: key, "\(error)")
    }
    return machine
  }

  /// The core's options for a configured processor (auto-boot is left to the caller, which
  /// boots once everything is wired up).
  public static func options(for configuration: ProcessorConfiguration) -> RemoteProcessor.Options {
    var options = RemoteProcessor.Options()
    options.recoveryDisabled = configuration.recovery == .disabled
    options.coredump = CoredumpMode(rawValue: configuration.coredump.rawValue) ?? .disabled
    options.legacyZeroVringAddress = configuration.legacyZeroVringAddress
    return options
  }
}
