import SharedMemory
import Synchronization
import Virtio

/// A host bus and a remote bus over one shared mapping, in one process: the vdev entry,
/// both vrings and the buffer pool laid out as a remoteproc core would, kicks wired to the
/// other side. For in-process remotes, tests and the loopback benchmark.
///
/// Layout (offsets in ``shared``; device address = ``deviceBase`` + offset): the vdev entry
/// at 0, vring 0 at 0x1000, vring 1 after it (page aligned), then the buffer pool.
public final class RPMsgLoopback: Sendable {
  /// How kicks travel.
  public enum KickDelivery: Sendable {
    /// The notify closure calls the other side's `handleKick` at once (re-entrant).
    case immediate
    /// Kicks are only recorded; ``pump()`` delivers them (one thread, no re-entrancy).
    case manual
  }

  public let host: RPMsgBus
  public let remote: RPMsgBus
  public let mapping: SharedMapping
  /// The part of the mapping the buses use (guard bytes excluded).
  public let shared: MemoryRegion
  public let resource: VirtioDeviceEntry
  public let deviceBase: UInt64
  public let vringMemory: [DeviceMemory]
  public let bufferMemory: DeviceMemory
  public let guardBytes: Int
  static let guardPattern: UInt8 = 0xA5
  let peers: Peers

  /// - Parameters:
  ///   - vringCount: entries per vring (a power of two).
  ///   - features: what the remote's vdev offers (`dfeatures`).
  ///   - hostFeatures: what the host accepts.
  ///   - byteOrder: the "firmware's" byte order.
  ///   - guardBytes: bytes of a known pattern before and after the shared part.
  public init(
    vringCount: Int = 256, features: VirtioFeatures = [.rpmsgNameService, .eventIndex],
    hostFeatures: VirtioFeatures = [.rpmsgNameService, .eventIndex], byteOrder: ByteOrder = .little,
    kicks: KickDelivery = .immediate, guardBytes: Int = 0, deviceBase: UInt64 = 0x1000_0000,
    log: @escaping @Sendable (String) -> Void = { _ in }
  ) throws(RPMsgError) {
    do {
      let layout = try VringLayout(count: vringCount, alignment: 4096)
      let ringBytes = (layout.byteCount + 4095) & ~4095
      let poolBytes = RPMsgBus.bufferPoolSize(receiveVringCount: vringCount)
      let sharedBytes = 0x1000 + 2 * ringBytes + poolBytes
      let guardSize = (guardBytes + 4095) & ~4095
      mapping = try SharedMapping.anonymous(count: sharedBytes + 2 * guardSize)
      self.guardBytes = guardSize
      if guardSize > 0 {
        try mapping.region.fill(Self.guardPattern, at: 0, count: guardSize)
        try mapping.region.fill(Self.guardPattern, at: guardSize + sharedBytes, count: guardSize)
      }
      shared = try mapping.region.slice(at: guardSize, length: sharedBytes)
      self.deviceBase = deviceBase
      resource = try VirtioDeviceEntry.initialize(
        in: try shared.slice(at: 0, length: 256), byteOrder: byteOrder,
        deviceID: RPMsgBus.virtioDeviceID, deviceFeatures: features,
        vrings: [(4096, UInt32(vringCount)), (4096, UInt32(vringCount))])
      vringMemory = [
        DeviceMemory(deviceAddress: deviceBase + 0x1000,
                     region: try shared.slice(at: 0x1000, length: ringBytes)),
        DeviceMemory(deviceAddress: deviceBase + 0x1000 + UInt64(ringBytes),
                     region: try shared.slice(at: 0x1000 + ringBytes, length: ringBytes)),
      ]
      let poolOffset = 0x1000 + 2 * ringBytes
      bufferMemory = DeviceMemory(deviceAddress: deviceBase + UInt64(poolOffset),
                                  region: try shared.slice(at: poolOffset, length: poolBytes))
    } catch let error as SharedMemoryError {
      throw RPMsgError(.invalidArgument, error.message)
    } catch let error as VirtioError {
      throw RPMsgError(error)
    } catch {
      throw RPMsgError(.invalidArgument, "\(error)")
    }
    let peers = Peers()
    self.peers = peers
    let immediate = kicks == .immediate
    host = RPMsgBus(role: .host, features: hostFeatures, notify: { [peers] id in
      if immediate {
        peers.remoteBus?.handleKick(notifyID: id)
      } else {
        peers.pendingRemote.store(true, ordering: .releasing)
      }
    }, log: log)
    remote = RPMsgBus(role: .remote, notify: { [peers] id in
      if immediate {
        peers.hostBus?.handleKick(notifyID: id)
      } else {
        peers.pendingHost.store(true, ordering: .releasing)
      }
    }, log: log)
    peers.links.withLock { $0 = (host, remote) }
  }

  deinit {
    peers.links.withLock { $0 = (nil, nil) }  // break bus → notify closure → peers → bus
  }

  /// Starts both sides: the host's handshake, then the remote once it sees DRIVER_OK.
  public func start() throws(RPMsgError) {
    try host.startHost(resource: resource, vrings: vringMemory, buffers: bufferMemory,
                       notifyIDs: [0, 1])
    let map = DeviceAddressMap(deviceAddress: deviceBase, region: shared)
    guard try remote.startRemote(resource: resource, addressMap: map) else {
      throw RPMsgError(.notReady, "the remote did not see DRIVER_OK")
    }
    pump()
  }

  /// Resets both sides, as a crash of the remote would.
  public func reset(reason: String = "loopback reset") {
    host.reset(reason: reason)
    remote.reset(reason: reason)
  }

  /// With `.manual` kicks: delivers recorded kicks until none is left.
  public func pump() {
    while true {
      let toRemote = peers.pendingRemote.exchange(false, ordering: .acquiringAndReleasing)
      let toHost = peers.pendingHost.exchange(false, ordering: .acquiringAndReleasing)
      if !toRemote && !toHost { return }
      if toRemote { remote.handleKick() }
      if toHost { host.handleKick() }
    }
  }

  /// True when every guard byte still holds its pattern (nothing wrote outside `shared`).
  public func guardsIntact() -> Bool {
    guard guardBytes > 0 else { return true }
    let pattern = [UInt8](repeating: Self.guardPattern, count: guardBytes)
    let before = (try? mapping.region.bytesEqual(pattern.span, at: 0)) ?? false
    let after = (try? mapping.region.bytesEqual(pattern.span, at: guardBytes + shared.count)) ?? false
    return before && after
  }

  /// The kick wiring: links to both buses (cleared when the loopback goes, which breaks
  /// the cycle through the notify closures; no weak reference, which would slow every
  /// retain of the buses) and the pending flags of `.manual` delivery.
  final class Peers: Sendable {
    let links = Mutex<(host: RPMsgBus?, remote: RPMsgBus?)>((nil, nil))
    let pendingRemote = Atomic<Bool>(false)
    let pendingHost = Atomic<Bool>(false)
    var hostBus: RPMsgBus? { links.withLock { $0.host } }
    var remoteBus: RPMsgBus? { links.withLock { $0.remote } }
  }
}
