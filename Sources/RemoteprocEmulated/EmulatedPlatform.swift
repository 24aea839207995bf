import Firmware
import Remoteproc
import SharedMemory

/// An emulated core as a remoteproc platform (Linux: the `struct rproc_ops` of a platform
/// driver such as `mips_remoteproc.c`): start/stop/kick/`da_to_va`, carveout windows, crash
/// reports and attach/detach, all forwarded to an ``EmulatedCore``.
public final class EmulatedPlatform: RemoteProcessorPlatform {
  public let core: EmulatedCore

  public init(core: EmulatedCore) {
    self.core = core
  }

  /// Creates a core for `machine`; `name` is what messages and the CPU registry call it
  /// (rprocd: the device name), by default its owner thread's name.
  public convenience init(
    machine: EmulatedMachine, options: EmulatedCore.Options = .init(), name: String? = nil
  ) throws(EmulationError) {
    self.init(core: try EmulatedCore(machine: machine, options: options, name: name))
  }

  public var platformName: String { "emulated \(core.machine.name)" }

  /// The machine's windows; carveouts are allocated in those marked `.carveouts`.
  public var memory: PlatformMemory {
    PlatformMemory(core.windowRegions.map { window, region in
      MemoryWindow(
        name: window.name, deviceAddress: window.deviceAddress,
        physicalAddress: window.physicalAddress, region: region,
        isAllocationPool: window.usage.contains(.carveouts))
    })
  }

  /// Linux: `rproc_elf_sanity_check` for this machine: ELF32, its `e_machine`, its byte order.
  public func checkImage(_ image: ELFImage) throws(RemoteprocError) {
    let machine = core.machine
    guard image.elfClass == .elf32, image.machine.rawValue == machine.elfMachine,
      image.byteOrder == machine.byteOrder
    else {
      throw RemoteprocError(
        .malformedFirmware,
        "\(image.elfClass) \(image.byteOrder) image for e_machine \(image.machine.rawValue) "
          + "cannot run on \(machine.name) (ELF32 \(machine.byteOrder), e_machine \(machine.elfMachine))")
    }
  }

  public func start(bootAddress: UInt64, notifier: RemoteprocNotifier) async throws(RemoteprocError) {
    do {
      try core.start(entry: bootAddress, events: Self.events(notifier))
    } catch where error.code == .cpusTaken {
      throw RemoteprocError(.busy, "\(platformName): \(error.message)")  // as the process platform
    } catch {
      throw RemoteprocError(.platform, "\(platformName): \(error)")
    }
  }

  public func stop() async throws(RemoteprocError) {
    core.stop()
  }

  /// The guest keeps running; its doorbells are kept for ``attach(notifier:)``.
  public func detach() async throws(RemoteprocError) {
    core.detach()
  }

  public func attach(notifier: RemoteprocNotifier) async throws(RemoteprocError) {
    guard case .running = core.state else {
      throw RemoteprocError(.invalidState, "\(platformName) is not running: nothing to attach to")
    }
    for id in core.attach(events: Self.events(notifier)) {
      Self.interrupt(notifier, id)
    }
  }

  public func kick(notifyID: UInt32) {
    core.kick(notifyId: Int(notifyID))
  }

  public func translate(deviceAddress: UInt64, length: Int) -> MemoryRegion? {
    core.memory(forDeviceAddress: deviceAddress, length: length)
  }

  public var byteOrder: ByteOrder { core.machine.byteOrder }

  static func events(_ notifier: RemoteprocNotifier) -> EmulatedCore.Events {
    EmulatedCore.Events(
      guestKicked: { id in interrupt(notifier, id) },
      crashed: { report in
        let type: CrashType =
          switch report.category {
          case .mmuFault: .mmuFault
          case .watchdog: .watchdog
          case .fatalError: .fatalError
          }
        notifier.reportCrash(type, details: "\(report)")
      })
  }

  /// Doorbell ids of 31 and more share bit 31 of the mailbox: then every vring is looked at.
  static func interrupt(_ notifier: RemoteprocNotifier, _ id: Int) {
    if id >= 31 { notifier.interruptAll() } else { notifier.vringInterrupt(notifyID: UInt32(id)) }
  }
}
