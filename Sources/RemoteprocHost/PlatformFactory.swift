import DaemonConfiguration
import Remoteproc
import RemoteprocEmulated

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
      return try emulated(machine, key: key)
    case .process:
      throw PlatformFactoryError(
        key: key + ".platform",
        "platform \"process\" (a native Linux process on stolen CPUs) is not available in this build of rprocd; "
          + "use platform = \"emulated\" with a machine, or a build that includes the process platform")
    }
  }

  /// An emulated core of `machine`.
  public static func emulated(_ machine: EmulatedMachine, key: String = "machine") throws(PlatformFactoryError) -> EmulatedPlatform {
    do {
      return try EmulatedPlatform(machine: machine)
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
