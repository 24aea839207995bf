import SharedMemory
import Synchronization

extension RPMsgBus {
  /// Registers a driver; it is probed on every existing channel it matches and on those
  /// announced later. Linux: `register_rpmsg_driver`.
  public func register(_ driver: any RPMsgDriver) {
    let unbound = endpoints.withLock { table -> [RPMsgChannel] in
      table.drivers.append(driver)
      return table.channels.filter { $0.driver == nil && driver.serviceNames.contains($0.name) }
    }
    for channel in unbound { bind(channel, to: driver) }
  }

  /// Unregisters a driver; its channels stay, without a driver.
  public func unregister(_ driver: any RPMsgDriver) {
    let bound = endpoints.withLock { table -> [RPMsgChannel] in
      table.drivers.removeAll { $0 === driver }
      return table.channels.filter { $0.driver === driver }
    }
    for channel in bound {
      channel.driverReference.withLock { $0 = nil }
      driver.remove(channel, reason: .driverUnregistered)
    }
  }

  /// Called for every announced name no registered driver matches (Linux leaves such a
  /// channel unbound; OpenAMP calls `ns_bind_cb`). The channel exists and a driver
  /// registered later binds to it.
  public func onUnboundService(_ handler: @escaping @Sendable (RPMsgAnnouncement) -> Void) {
    endpoints.withLock { $0.unboundService = handler }
  }

  /// The channels that exist now.
  public var channels: [RPMsgChannel] { endpoints.withLock { $0.channels } }

  func bind(_ channel: RPMsgChannel, to driver: any RPMsgDriver) {
    channel.driverReference.withLock { $0 = driver }
    do {
      try driver.probe(channel)
    } catch {
      channel.driverReference.withLock { $0 = nil }
      log("driver for \(channel.name) refused the channel: \(error)")
    }
  }

  /// A message to address 53. Linux: `rpmsg_ns_cb`.
  func handleNameService(_ bytes: [UInt8], from source: EndpointAddress, order: ByteOrder) {
    switch RPMsgWire.decodeNameService(bytes.span, order: order) {
    case .failure(let failure):
      drops.withLock { $0.droppedMalformedNameService += 1 }
      log("malformed ns msg from \(source): \(failure.problem)")
    case .success(let a):
      if a.isDestroy {
        serviceDestroyed(RPMsgAnnouncement(name: a.name, address: a.address))
      } else {
        serviceCreated(RPMsgAnnouncement(name: a.name, address: a.address))
      }
    }
  }

  func rejectAnnouncement(_ why: String) {
    drops.withLock { $0.rejectedAnnouncements += 1 }
    log(why)
  }

  func serviceCreated(_ a: RPMsgAnnouncement) {
    guard a.address != .any else {
      return rejectAnnouncement("ns create for \(a.name) at RPMSG_ADDR_ANY")
    }
    enum Action { case exists, bindEndpoint(RPMsgEndpoint), channel((any RPMsgDriver)?) }
    let action = endpoints.withLock { table -> Action in
      if table.channels.contains(where: { $0.name == a.name && $0.destination == a.address }) {
        return .exists
      }
      let driver = table.drivers.first { $0.serviceNames.contains(a.name) }
      if driver == nil, let e = table.byAddress.values.first(where: {
        $0.name == a.name && $0.destination == .any && $0.address != .nameService
      }) {
        return .bindEndpoint(e)
      }
      return .channel(driver)
    }
    switch action {
    case .exists:
      rejectAnnouncement("channel \(a.name):\(a.address) already exists")
    case .bindEndpoint(let e):
      e.bind(to: a.address)  // OpenAMP: rpmsg_virtio_ns_callback sets dest_addr
    case .channel(let driver):
      let channel = RPMsgChannel(name: a.name, destination: a.address, bus: self)
      let weak = WeakChannel(channel)
      do {
        let endpoint = try createEndpoint(name: a.name, destination: a.address) { message in
          guard let channel = weak.channel, let driver = channel.driver else { return }
          driver.receive(&message, on: channel)
        }
        _ = channel.endpointReference.storeIfNil(endpoint)
      } catch {
        return rejectAnnouncement("cannot create the endpoint of \(a.name): \(error)")
      }
      let handler = endpoints.withLock { table in
        table.channels.append(channel)
        return table.unboundService
      }
      notifyChannelObservers(.added(channel))
      if let driver {
        bind(channel, to: driver)
      } else {
        handler?(a)
      }
    }
  }

  func serviceDestroyed(_ a: RPMsgAnnouncement) {
    let channel = endpoints.withLock { table -> RPMsgChannel? in
      guard let i = table.channels.firstIndex(where: {
        $0.name == a.name && $0.destination == a.address
      }) else { return nil }
      return table.channels.remove(at: i)
    }
    if let channel {
      let driver = channel.driver
      channel.driverReference.withLock { $0 = nil }
      driver?.remove(channel, reason: .serviceDestroyed)
      channel.endpoint.destroy()
      notifyChannelObservers(.removed(channel, .serviceDestroyed))
      return
    }
    let bound = endpoints.withLock { table in
      table.byAddress.values.filter { $0.name == a.name && $0.destination == a.address }
    }
    guard !bound.isEmpty else {
      return rejectAnnouncement("ns destroy for unknown channel \(a.name):\(a.address)")
    }
    for e in bound { e.bind(to: .any) }
  }
}
