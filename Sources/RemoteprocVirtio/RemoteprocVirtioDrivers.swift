import Firmware
import RPMsg
import Remoteproc
import SharedMemory
import Synchronization
import Virtio
import VirtioSerial

/// The host-side virtio drivers for the remoteproc core: rpmsg (id 7) and the remoteproc
/// serial port (id 11) or console (id 3). Linux: the virtio bus matching
/// `virtio_rpmsg_bus` and `virtio_console` to a remoteproc vdev.
///
/// One ``RPMsgBus`` (and one ``VirtioSerialPort``) per processor and vdev index lives as long
/// as this factory: the core makes a new subdevice for every boot, and each reuses it, so
/// registered drivers and users survive a crash and recovery (channels come back when the
/// restarted firmware announces them).
public final class RemoteprocVirtioDrivers: VirtioDriverFactory {
  /// Called once per new bus (processor name, vdev index, bus): register drivers here.
  public typealias BusHandler = @Sendable (String, Int, RPMsgBus) -> Void
  /// Called once per new serial port.
  public typealias PortHandler = @Sendable (String, Int, VirtioSerialPort) -> Void

  let features: VirtioFeatures
  let serialBufferSize: Int
  let newBus: BusHandler
  let newPort: PortHandler
  let serialReceive: @Sendable (String, Int, [UInt8]) -> Void
  let log: @Sendable (String) -> Void
  let brokenTransportIsCrash: Bool
  let events: EventBroadcaster?
  let devices = Mutex<[String: AnyObject]>([:])

  /// - Parameters:
  ///   - rpmsgFeatures: what the host accepts of an rpmsg vdev's offer.
  ///   - serialBufferSize: bytes per serial buffer (Linux: PAGE_SIZE).
  ///   - serialReceive: bytes a serial port received (processor, vdev index, bytes).
  ///   - brokenTransportIsCrash: a remote that breaks an rpmsg vring (garbage in the rings)
  ///     is reported as a crash of its processor (`fatal error`, once per boot), so recovery
  ///     restarts it; by default the bus stays broken (`transportError`, logged) and the
  ///     processor keeps running.
  ///   - events: where each bus's channel appearances and removals are sent, as
  ///     ``RemoteprocEvent/channelAdded(processor:name:source:destination:)`` and
  ///     ``RemoteprocEvent/channelRemoved(processor:name:source:destination:)`` (give the
  ///     registry's ``RemoteprocRegistry/events``).
  public init(
    rpmsgFeatures: VirtioFeatures = [.rpmsgNameService, .eventIndex],
    serialBufferSize: Int = 4096,
    newBus: @escaping BusHandler = { _, _, _ in },
    newPort: @escaping PortHandler = { _, _, _ in },
    serialReceive: @escaping @Sendable (String, Int, [UInt8]) -> Void = { _, _, _ in },
    events: EventBroadcaster? = nil,
    log: @escaping @Sendable (String) -> Void = { _ in },
    brokenTransportIsCrash: Bool = false
  ) {
    self.brokenTransportIsCrash = brokenTransportIsCrash
    self.features = rpmsgFeatures
    self.serialBufferSize = serialBufferSize
    self.newBus = newBus
    self.newPort = newPort
    self.serialReceive = serialReceive
    self.events = events
    self.log = log
  }

  /// The rpmsg bus of `processor`'s vdev `index`, once the core made it.
  public func bus(processor: String, index: Int) -> RPMsgBus? {
    devices.withLock { $0[Self.key(processor, index, "rpmsg")] } as? RPMsgBus
  }

  /// The serial port of `processor`'s vdev `index`, once the core made it.
  public func serialPort(processor: String, index: Int) -> VirtioSerialPort? {
    devices.withLock { $0[Self.key(processor, index, "serial")] } as? VirtioSerialPort
  }

  /// Devices are kept per processor, vdev index *and kind*: a firmware change that puts an
  /// rpmsg vdev where a serial port was must not drop the port, which comes back (with its
  /// users) when a serial firmware is loaded again.
  static func key(_ processor: String, _ index: Int, _ kind: String) -> String {
    "\(processor)/\(index)/\(kind)"
  }

  public func bufferPoolSize(for device: Firmware.VirtioDeviceResource) -> Int? {
    switch device.id {
    case RPMsgBus.virtioDeviceID:
      guard let first = device.vrings.first else { return 0 }
      return RPMsgBus.bufferPoolSize(receiveVringCount: Int(first.count))
    case VirtioSerialPort.remoteprocSerialID, VirtioSerialPort.consoleID:
      guard device.vrings.count == 2 else { return 0 }
      return VirtioSerialPort.bufferPoolSize(
        receiveCount: Int(device.vrings[0].count), transmitCount: Int(device.vrings[1].count),
        bufferSize: serialBufferSize)
    default:
      return nil
    }
  }

  public func makeDriver(
    _ context: VirtioDeviceContext, notifier: RemoteprocNotifier
  ) throws(RemoteprocError) -> any RemoteprocSubdevice {
    let processor = context.processorName, index = context.index
    // Both drivers need exactly two vrings; say so here, where the reason is known (without
    // them bufferPoolSize asked for no pool, and starting would only find it missing).
    let vringCount = context.resource.vrings.count
    if context.resource.id == RPMsgBus.virtioDeviceID || context.resource.id == VirtioSerialPort.remoteprocSerialID
      || context.resource.id == VirtioSerialPort.consoleID, vringCount != 2 {
      let what = context.resource.id == RPMsgBus.virtioDeviceID ? "an rpmsg bus" : "a serial port"
      throw RemoteprocError(
        .badResourceTable,
        "\(processor) vdev \(index) (virtio id \(context.resource.id)): \(what) needs 2 vrings, the vdev has \(vringCount)")
    }
    switch context.resource.id {
    case RPMsgBus.virtioDeviceID:
      let key = Self.key(processor, index, "rpmsg")
      let (bus, isNew) = devices.withLock { d -> (RPMsgBus, Bool) in
        if let bus = d[key] as? RPMsgBus { return (bus, false) }
        let bus = RPMsgBus(role: .host, features: features, notify: context.kick, log: log)
        d[key] = bus
        return (bus, true)
      }
      if isNew {
        if let events { Self.forwardChannelEvents(of: bus, processor: processor, to: events) }
        newBus(processor, index, bus)
      }
      return VirtioSubdevice(
        context: context, notifier: notifier, device: .rpmsg(bus), brokenTransportIsCrash: brokenTransportIsCrash)
    case VirtioSerialPort.remoteprocSerialID, VirtioSerialPort.consoleID:
      let receive = serialReceive
      let key = Self.key(processor, index, "serial")
      let (port, isNew) = devices.withLock { d -> (VirtioSerialPort, Bool) in
        if let port = d[key] as? VirtioSerialPort { return (port, false) }
        let port = VirtioSerialPort(
          bufferSize: serialBufferSize, notify: context.kick,
          receive: { bytes in receive(processor, index, bytes) }, log: log)
        d[key] = port
        return (port, true)
      }
      if isNew { newPort(processor, index, port) }
      return VirtioSubdevice(context: context, notifier: notifier, device: .serial(port), brokenTransportIsCrash: false)
    default:
      throw RemoteprocError(.platform, "no host driver for virtio device id \(context.resource.id)")
    }
  }

  /// Sends the bus's channel appearances and removals as the core's events. The source is
  /// the channel's default endpoint (Linux: `rpdev->src` once bound), the destination the
  /// remote's announced address.
  static func forwardChannelEvents(of bus: RPMsgBus, processor: String, to events: EventBroadcaster) {
    bus.observeChannels { event in
      switch event {
      case .added(let channel):
        events.send(.channelAdded(
          processor: processor, name: channel.name, source: channel.endpoint.address.rawValue,
          destination: channel.destination.rawValue))
      case .removed(let channel, _):
        events.send(.channelRemoved(
          processor: processor, name: channel.name, source: channel.endpoint.address.rawValue,
          destination: channel.destination.rawValue))
      }
    }
  }
}
