import DaemonConfiguration
import Foundation
import Glibc
import RPMsg
import Remoteproc
import RemoteprocHost
import Synchronization
import SysfsFilesystem

/// Where and how rprocd serves its processors.
public struct DaemonOptions: Sendable {
  /// Where to mount the sysfs-like tree (nil: no tree).
  public var mountPoint: String?
  /// Where the UNIX socket goes (nil: no socket).
  public var socketPath: String?
  /// The socket file's permissions: owner and group may connect.
  public var socketMode: UInt16 = 0o660
  /// The socket file's group (nil: the daemon's).
  public var socketGroup: UInt32?
  /// Clients served at once; more are told to try later.
  public var maximumClients = 64
  /// Receives one line per event worth telling an operator.
  public var log: @Sendable (String) -> Void

  public init(
    mountPoint: String? = nil, socketPath: String? = nil, log: @escaping @Sendable (String) -> Void = { _ in }
  ) {
    self.mountPoint = mountPoint
    self.socketPath = socketPath
    self.log = log
  }
}

/// rprocd: owns the processors a configuration describes, shows them as a sysfs-like tree
/// (FUSE) and serves clients on a UNIX socket. ``start(configuration:options:)`` sets
/// everything up and boots the auto-boot processors (and attaches to remotes that are
/// already running); ``stop()`` stops or detaches each as configured, disconnects clients,
/// unmounts and removes the socket.
public final class Daemon: Sendable {
  public let configuration: DaemonConfiguration
  public let registry: RemoteprocRegistry
  public let options: DaemonOptions
  let hosted: [HostedProcessor]
  let tree: SysfsTree
  let filesystem: SysfsFilesystem?
  let server: SocketServer?
  let clock: WallClock
  private let watcher = Mutex<Task<Void, Never>?>(nil)
  private let stopped = Atomic<Bool>(false)

  var log: @Sendable (String) -> Void { options.log }

  private init(
    configuration: DaemonConfiguration, registry: RemoteprocRegistry, options: DaemonOptions, hosted: [HostedProcessor],
    tree: SysfsTree, filesystem: SysfsFilesystem?, server: SocketServer?, clock: WallClock
  ) {
    self.configuration = configuration
    self.registry = registry
    self.options = options
    self.hosted = hosted
    self.tree = tree
    self.filesystem = filesystem
    self.server = server
    self.clock = clock
  }

  /// Sets up every processor, the tree and the socket, then boots what should run.
  public static func start(
    configuration: DaemonConfiguration, options: DaemonOptions
  ) async throws(DaemonError) -> Daemon {
    for (position, processor) in configuration.processors.enumerated() where processor.index != position {
      throw DaemonError(
        .configuration,
        "processor.\(processor.deviceName): processors are numbered from remoteproc0 without gaps, as Linux numbers them; rename it remoteproc\(position)")
    }
    var platforms: [any RemoteProcessorPlatform] = []
    for processor in configuration.processors {
      do { platforms.append(try PlatformFactory.makePlatform(for: processor)) } catch {
        throw DaemonError(.configuration, error.description)
      }
    }
    let registry = RemoteprocRegistry()
    let tree = SysfsTree()
    let clock = WallClock()
    let numbering = VirtioNumbering()
    var hosted: [HostedProcessor] = []
    do {
      try tree.addDirectory("rpmsg")
      for (processor, platform) in zip(configuration.processors, platforms) {
        let one = await HostedProcessor.register(
          processor, platform: platform, registry: registry, tree: tree, numbering: numbering, clock: clock,
          log: options.log)
        hosted.append(one)
        try ProcessorTree(hosted: one, tree: tree).build()
      }
    } catch {
      for one in hosted { await registry.remove(one.processor) }
      throw DaemonError(.configuration, "building the tree: \(error)")
    }
    var filesystem: SysfsFilesystem?
    if let mountPoint = options.mountPoint {
      do {
        filesystem = try SysfsFilesystem.mount(tree, at: mountPoint, name: "rprocd")
      } catch {
        for one in hosted { await registry.remove(one.processor) }
        var advice = ""
        if error.errno == EPERM || error.errno == EACCES {
          advice = "; mounting needs root (CAP_SYS_ADMIN), or run without --mount and use the socket"
        } else if error.errno == ENOENT {
          advice = "; does \(mountPoint) exist, and /dev/fuse (Debian: apt install fuse3)?"
        }
        throw DaemonError(.mount, "cannot mount the tree at \(mountPoint): \(error)\(advice)")
      }
    }
    var server: SocketServer?
    if let socketPath = options.socketPath {
      do {
        server = try SocketServer(
          path: socketPath, mode: options.socketMode, group: options.socketGroup,
          maximumClients: options.maximumClients, log: options.log)
      } catch {
        await filesystem?.unmount()
        for one in hosted { await registry.remove(one.processor) }
        throw error
      }
    }
    let daemon = Daemon(
      configuration: configuration, registry: registry, options: options, hosted: hosted, tree: tree,
      filesystem: filesystem, server: server, clock: clock)
    daemon.watchEvents()
    server?.start(
      handle: { request, client in await daemon.handle(request, from: client) },
      cleanUp: { client in await daemon.cleanUp(client) })
    for one in hosted {
      let state = await one.processor.state
      // A remote left running (by a daemon that detached it) is attached again; the
      // auto-boot ones are booted.
      guard state == .detached || one.configuration.autoBoot else { continue }
      do {
        try await one.processor.boot()
      } catch {
        options.log("\(one.deviceName): \(state == .detached ? "attaching" : "auto-boot") failed: \(error.message)")
      }
      await ProcessorTree(hosted: one, tree: tree).refresh()
    }
    return daemon
  }

  /// Stops (or detaches, as configured) every processor, disconnects clients, unmounts the
  /// tree and removes the socket. Calling it again does nothing.
  public func stop() async {
    guard !stopped.exchange(true, ordering: .acquiringAndReleasing) else { return }
    await server?.stop()
    for one in hosted {
      let detach = one.configuration.onExit == .detach
      if await one.processor.state.isUp {
        log("\(one.deviceName): \(detach ? "detaching (it keeps running)" : "stopping")")
      }
      await registry.remove(one.processor, detach: detach)
      one.terminals.closeAll()
    }
    await filesystem?.unmount()
    // The files' closures hold the processors, which hold the tree: empty it to let them go
    // (an emulated core's memory and emulator slot are freed with it).
    for name in (try? tree.contents(of: "")) ?? [] { try? tree.remove(name) }
    watcher.withLock { $0 }?.cancel()
    registry.events.finish()
  }

  /// The processors, in index order.
  public var processors: [RemoteProcessor] { hosted.map(\.processor) }

  /// Where the tree is mounted, if it is.
  public var mountPoint: String? { filesystem?.mountPoint }

  /// The pseudo-terminal of `processor`'s serial port on vdev `vdev`.
  public func serialTerminal(processor: String, vdev: Int = 0) -> String? {
    hosted.first { $0.deviceName == processor }?.terminals.serialPorts.first { $0.vdev == vdev }?.tty
  }

  /// The rpmsg bus of `processor`'s vdev `vdev`, once the processor booted with it.
  public func rpmsgBus(processor: String, vdev: Int = 0) -> RPMsgBus? {
    hosted.first { $0.deviceName == processor }?.drivers.bus(processor: processor, index: vdev)
  }

  /// Clients watching `processor`'s traffic.
  public func monitorCount(processor: String) -> Int {
    hosted.first { $0.deviceName == processor }?.traffic.monitorCount ?? 0
  }

  /// Connected clients (for tests and status).
  public var clientCount: Int { server?.connected.count ?? 0 }

  private func watchEvents() {
    let events = registry.events.subscribe()
    let task = Task { [self] in
      for await event in events {
        switch event {
        case .stateChanged(let name, let from, let to):
          log("\(name): \(from) → \(to)")
          await refresh(name)
        case .crashed(let name, let type, let details): log("\(name): crashed (\(type)): \(details)")
        case .recovered(let name):
          log("\(name): recovered")
          await refresh(name)
        case .recoveryFailed(let name, let reason):
          log("\(name): recovery failed: \(reason)")
          await refresh(name)
        case .coredumpTaken(let name, let bytes):
          log("\(name): core dump taken (\(bytes) bytes)")
          await refresh(name)
        case .channelAdded(let name, let channel, let source, let destination):
          log("\(name): rpmsg channel \(channel) 0x\(String(source, radix: 16)) → 0x\(String(destination, radix: 16))")
        case .channelRemoved(let name, let channel, _, _):
          log("\(name): rpmsg channel \(channel) removed")
        }
      }
    }
    watcher.withLock { $0 = task }
  }

  func refresh(_ deviceName: String) async {
    guard let one = hosted.first(where: { $0.deviceName == deviceName }) else { return }
    await ProcessorTree(hosted: one, tree: tree).refresh()
  }
}
