import DaemonConfiguration
import Foundation
import RPMsg
import RPMsgDrivers
import Remoteproc
import RemoteprocHost
import RemoteprocVirtio
import Synchronization
import SysfsFilesystem

/// One processor the daemon owns: the core's processor, its virtio drivers, and what the
/// daemon adds around it (channel folders, terminals, the traffic tap).
final class HostedProcessor: Sendable {
  let configuration: ProcessorConfiguration
  let processor: RemoteProcessor
  let drivers: RemoteprocVirtioDrivers
  let channels: ChannelDirectory
  let terminals: Terminals
  let traffic: TrafficTap
  /// Core dumps a user discarded through `devcoredump` (by crash number).
  let discardedDumps = Mutex<Set<Int>>([])

  var deviceName: String { configuration.deviceName }

  private init(
    configuration: ProcessorConfiguration, processor: RemoteProcessor, drivers: RemoteprocVirtioDrivers,
    channels: ChannelDirectory, terminals: Terminals, traffic: TrafficTap
  ) {
    self.configuration = configuration
    self.processor = processor
    self.drivers = drivers
    self.channels = channels
    self.terminals = terminals
    self.traffic = traffic
  }

  /// Registers the processor with `registry` on `platform`, with its drivers wired to the
  /// tree, terminals and tap. Does not boot it.
  static func register(
    _ configuration: ProcessorConfiguration, platform: any RemoteProcessorPlatform, registry: RemoteprocRegistry,
    tree: SysfsTree, numbering: VirtioNumbering, clock: WallClock, log: @escaping @Sendable (String) -> Void
  ) async -> HostedProcessor {
    let name = configuration.deviceName
    let channels = ChannelDirectory(processor: name, tree: tree)
    let terminals = Terminals(processor: name, tree: tree, channels: channels, log: log)
    let traffic = TrafficTap(clock: clock)
    let drivers = RemoteprocVirtioDrivers(
      newBus: { processor, vdev, bus in
        channels.follow(bus, vdev: vdev, virtio: numbering.number(processor: processor, vdev: vdev))
        traffic.follow(bus)
        // Weak: the terminals reach the bus through the channel directory.
        bus.register(RPMsgTTYDriver { [weak terminals] port in terminals?.openTTY(port) })
      },
      newPort: { processor, vdev, port in
        _ = numbering.number(processor: processor, vdev: vdev)
        terminals.openSerial(port, vdev: vdev)
      },
      serialReceive: { _, vdev, bytes in terminals.serialReceived(vdev: vdev, bytes) },
      events: registry.events,
      log: { line in log("\(name): \(line)") })
    let processor = await registry.add(
      name: configuration.name, firmware: configuration.firmware, platform: platform,
      firmwareStore: FirmwareStore(directories: [configuration.firmwareDirectory]), drivers: drivers,
      options: PlatformFactory.options(for: configuration)
    ).processor
    return HostedProcessor(
      configuration: configuration, processor: processor, drivers: drivers, channels: channels,
      terminals: terminals, traffic: traffic)
  }

  /// The rpmsg bus of vdev `vdev`, or the first that is running.
  func bus(vdev: Int?) async throws(RemoteprocError) -> RPMsgBus {
    let buses = channels.allBuses
    if let vdev {
      guard let bus = buses.first(where: { $0.vdev == vdev })?.bus else {
        throw RemoteprocError(.notFound, "\(deviceName) has no rpmsg bus on vdev \(vdev)")
      }
      return bus
    }
    if let running = buses.first(where: { $0.bus.isRunning }) { return running.bus }
    let state = await processor.state
    throw RemoteprocError(
      .notFound,
      state.isUp
        ? "\(deviceName)'s firmware publishes no rpmsg device (its resource table has no vdev of id 7)"
        : "\(deviceName) is \(state): start it first (rproc start \(deviceName))")
  }

  /// The core dumps kept and not discarded, oldest first.
  func visibleCoredumps() async -> [Coredump] {
    let discarded = discardedDumps.withLock { $0 }
    return await processor.coredumps.filter { !discarded.contains($0.number) }
  }

  /// Chooses the next boot's firmware: a name inside the firmware directory, or a path that
  /// resolves inside it (symlinks followed); anything else is refused with `EINVAL`.
  func setFirmware(_ given: String) async throws(RemoteprocError) {
    let directory = URL(fileURLWithPath: configuration.firmwareDirectory).standardizedFileURL.resolvingSymlinksInPath().path
    var name = given
    if given.hasPrefix("/") {
      let resolved = URL(fileURLWithPath: given).standardizedFileURL.resolvingSymlinksInPath().path
      guard resolved.hasPrefix(directory + "/") else {
        throw RemoteprocError(
          .invalidArgument,
          "\(given) is outside \(deviceName)'s firmware directory \(directory); copy it there and give its name")
      }
      name = String(resolved.dropFirst(directory.count + 1))
    }
    // Refuse now what boot would refuse (a missing file, a symlink leading out).
    _ = try FirmwareStore(directories: [configuration.firmwareDirectory]).path(for: name)
    try await processor.setFirmware(name)
  }
}

/// Linux's virtio device numbers (`virtio0`, `virtio1`, …), one per vdev of every processor
/// in the order they first appear; kept across reboots (Linux gives a new number each boot).
final class VirtioNumbering: Sendable {
  private let numbers = Mutex<[String: Int]>([:])

  func number(processor: String, vdev: Int) -> Int {
    numbers.withLock { numbers in
      let key = "\(processor)/\(vdev)"
      if let n = numbers[key] { return n }
      numbers[key] = numbers.count
      return numbers.count - 1
    }
  }
}
