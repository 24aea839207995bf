import SharedMemory
import Synchronization
import Virtio

extension RPMsgBus {
  /// Virtio device id of rpmsg. Linux: `VIRTIO_ID_RPMSG`.
  public static let virtioDeviceID: UInt32 = 7

  /// Bytes of buffer pool the host needs for a vdev whose vring 0 has `count` entries.
  public static func bufferPoolSize(receiveVringCount count: Int) -> Int {
    RPMsgWire.bufferCount(receiveVringCount: count) * RPMsgWire.bufferSize
  }

  /// Brings the bus up as the host (virtio driver) on a vdev entry of the loaded resource
  /// table: status ACK → DRIVER → `gfeatures` → vrings zeroed and their `da` written →
  /// receive buffers posted → DRIVER_OK → kick. Linux: `rpmsg_probe`.
  ///
  /// - Parameters:
  ///   - resource: the vdev entry (id 7, two vrings).
  ///   - vrings: memory for vring 0 (remote → host) and vring 1 (host → remote), each at
  ///     least `vring_size(num, align)` bytes, allocated by the core.
  ///   - buffers: the buffer pool, at least ``bufferPoolSize(receiveVringCount:)`` bytes;
  ///     receive buffers are its first half, transmit buffers its second.
  ///   - notifyIDs: written to the vrings' `notifyid` (nil: leave the entry's).
  public func startHost(
    resource: VirtioDeviceEntry, vrings: [DeviceMemory], buffers: DeviceMemory,
    notifyIDs: [UInt32]? = nil
  ) throws(RPMsgError) {
    guard role == .host else { throw RPMsgError(.invalidArgument, "startHost on a remote bus") }
    guard !isRunning else { throw RPMsgError(.invalidArgument, "the bus is already running") }
    guard resource.deviceID == Self.virtioDeviceID else {
      throw RPMsgError(.invalidArgument, "vdev id \(resource.deviceID) is not rpmsg (7)")
    }
    guard resource.vringCount == 2 else {
      throw RPMsgError(.invalidArgument, "rpmsg needs 2 vrings, the vdev has \(resource.vringCount)")
    }
    var handshake = VirtioDriverHandshake(resource: resource)
    do {
      try handshake.begin()
      let features = try handshake.negotiate(supported: features)
      let receiveLayout = try resource.vringLayout(0)
      let transmitLayout = try resource.vringLayout(1)
      let total = RPMsgWire.bufferCount(receiveVringCount: receiveLayout.count)
      let poolSize = total * RPMsgWire.bufferSize
      guard buffers.region.count >= poolSize else {
        throw RPMsgError(.invalidArgument,
                         "buffer pool of \(buffers.region.count) bytes; \(total) buffers of "
                           + "\(RPMsgWire.bufferSize) need \(poolSize)")
      }
      let pool = try buffers.region.slice(at: 0, length: poolSize)
      var queues = try handshake.setUpVrings(vrings, notifyIDs: notifyIDs,
                                             callbacksEnabled: [true, false])
      var receiver = HostReceiver(queue: queues.removeFirst(), count: total / 2,
                                  poolAddress: buffers.deviceAddress)
      for i in 0..<total / 2 { try receiver.post(UInt32(i)) }
      let transmitter = HostTransmitter(
        queue: queues.removeFirst(), first: total / 2,
        count: min(total / 2, transmitLayout.count), poolAddress: buffers.deviceAddress,
        pool: pool)
      let map = DeviceAddressMap(deviceAddress: buffers.deviceAddress, region: pool)
      let epoch = epochs.add(1, ordering: .acquiringAndReleasing).newValue
      brokenErrors.withLock { $0 = nil }  // a new session: the last one's breakage is history
      let (rxID, txID) = (try resource.vring(0).notifyID, try resource.vring(1).notifyID)
      let nameService = features.contains(.rpmsgNameService)
      rx.withLock { s in
        s = RxState()
        s.host = receiver
        s.delivery.map = map
        s.delivery.order = resource.byteOrder
        s.notifyID = rxID
        s.delivery.epoch = epoch
        s.delivery.session = SessionReference(value: RPMsgSession(bus: self, map: map, epoch: epoch))
        s.running = true
      }
      tx.withLock { s in
        let sent = s.sent
        s = TxState()
        s.host = transmitter
        s.map = map
        s.order = resource.byteOrder
        s.notifyID = txID
        s.epoch = epoch
        s.nameService = nameService
        s.sent = sent
        s.running = true
      }
      receiveNotifyID.store(rxID, ordering: .relaxed)
      transmitNotifyID.store(txID, ordering: .relaxed)
      if nameService { try createNameServiceEndpoint() }
      try handshake.finish()
      control.withLock {
        $0.handshake = handshake
        $0.features = features
      }
      // Linux: virtqueue_kick_prepare(rvq) before virtio_device_ready, notify after.
      let kick = rx.withLock { $0.host!.queue.kickPrepare() }
      if kick { notify(rxID) }
      flushAnnouncements()
    } catch let error as VirtioError {
      handshake.fail()
      stopRings()
      throw RPMsgError(error)
    } catch let error as RPMsgError {
      handshake.fail()
      stopRings()
      throw error
    } catch {
      handshake.fail()
      stopRings()
      throw RPMsgError(.transport, "\(error)")
    }
  }

  /// Brings the bus up as the remote (virtio device) once the host published DRIVER_OK:
  /// reads the negotiated features and the vrings' addresses, translated through
  /// `addressMap` (the remote's view of memory). Returns false while the host is not ready
  /// (call again later); announces the endpoints created with `announce: true`.
  @discardableResult
  public func startRemote(
    resource: VirtioDeviceEntry, addressMap: DeviceAddressMap
  ) throws(RPMsgError) -> Bool {
    guard role == .remote else { throw RPMsgError(.invalidArgument, "startRemote on a host bus") }
    guard !isRunning else { throw RPMsgError(.invalidArgument, "the bus is already running") }
    guard resource.vringCount == 2 else {
      throw RPMsgError(.invalidArgument, "rpmsg needs 2 vrings, the vdev has \(resource.vringCount)")
    }
    let handshake = VirtioDeviceHandshake(resource: resource)
    do throws(VirtioError) {
      guard try handshake.driverIsReady() else { return false }
      let features = try handshake.negotiatedFeatures()
      var queues = try handshake.vrings(addressMap: addressMap)
      queues[0].disableNotifications()  // kicks for new host buffers only while a writer waits
      let transmitter = RemoteTransmitter(queue: queues[0])
      let receiver = RemoteReceiver(queue: queues[1])
      let epoch = epochs.add(1, ordering: .acquiringAndReleasing).newValue
      brokenErrors.withLock { $0 = nil }
      let (txID, rxID) = (try resource.vring(0).notifyID, try resource.vring(1).notifyID)
      let nameService = features.contains(.rpmsgNameService)
      rx.withLock { s in
        s = RxState()
        s.remote = receiver
        s.delivery.map = addressMap
        s.delivery.order = resource.byteOrder
        s.notifyID = rxID
        s.delivery.epoch = epoch
        s.delivery.session = SessionReference(
          value: RPMsgSession(bus: self, map: addressMap, epoch: epoch))
        s.running = true
      }
      tx.withLock { s in
        let sent = s.sent
        s = TxState()
        s.remote = transmitter
        s.map = addressMap
        s.order = resource.byteOrder
        s.notifyID = txID
        s.epoch = epoch
        s.nameService = nameService
        s.sent = sent
        s.running = true
      }
      control.withLock {
        $0.handshake = nil
        $0.features = features
      }
      receiveNotifyID.store(rxID, ordering: .relaxed)
      transmitNotifyID.store(txID, ordering: .relaxed)
    } catch {
      throw RPMsgError(error)
    }
    if hasNameService { try createNameServiceEndpoint() }
    flushAnnouncements()
    // Messages the host sent before we started are waiting.
    receive()
    return true
  }

  func createNameServiceEndpoint() throws(RPMsgError) {
    let (stream, continuation) = AsyncThrowingStream<RPMsgMessage, any Error>.makeStream()
    continuation.finish()
    try endpoints.withLock { (table) throws(RPMsgError) in
      guard table.byAddress[EndpointAddress.nameService.rawValue] == nil else { return }
      table.byAddress[EndpointAddress.nameService.rawValue] = RPMsgEndpoint(
        address: .nameService, name: "name-service", bus: self, announce: false,
        destination: .nameService, receiver: .nameService, stream: stream, onReset: nil)
    }
    generation.add(1, ordering: .releasing)
  }

  func stopRings() {
    rx.withLock { s in
      s.running = false
      s.host = nil
      s.remote = nil
      s.delivery.cachedEndpoint = nil
      s.delivery.cachedCallback = nil
      s.delivery.session = nil
    }
    tx.withLock { s in
      s.running = false
      s.host = nil
      s.remote = nil
    }
  }

  /// Tears the bus down because the remote stopped, crashed or detached: the host resets
  /// the vdev status to 0; every endpoint dies (its users learn through `onReset`, the
  /// async sequence throwing ``RPMsgError/Code-swift.struct/reset``, and the driver's
  /// `remove`); every waiting and later send on them fails with `.reset`; held and borrowed
  /// buffers become inert. Drivers stay registered: start again after the restart and the
  /// channels come back with the firmware's announcements. Linux: `rproc_vdev_release` /
  /// `rpmsg_remove`. Inside a receive callback the reset happens when the callback returns.
  public func reset(reason: String = "the remote processor was reset") {
    let error = RPMsgError(.reset, reason)
    if onDispatcher {
      deferredReset.withLock { $0 = $0 ?? error }
      resetRequested.store(true, ordering: .releasing)
      return
    }
    lastResetReason.withLock { $0 = reason }
    stopRings()
    epochs.add(1, ordering: .acquiringAndReleasing)
    returns.withLock { $0.removeAll(keepingCapacity: true) }
    returnsCount.store(0, ordering: .releasing)
    control.withLock { c in
      c.handshake?.reset()
      c.handshake = nil
    }
    let (dead, channels) = endpoints.withLock { table in
      let dead = Array(table.byAddress.values)
      let channels = table.channels
      table.byAddress.removeAll()
      table.channels.removeAll()
      table.pendingAnnouncements.removeAll()
      table.nextDynamic = EndpointAddress.firstDynamic.rawValue
      return (dead, channels)
    }
    generation.add(1, ordering: .releasing)
    resumeAllWaiters(.reset)
    for channel in channels {
      channel.driver?.remove(channel, reason: .reset)
      notifyChannelObservers(.removed(channel, .reset))
    }
    for endpoint in dead {
      guard endpoint.stateValue.compareExchange(
        expected: 0, desired: 2, ordering: .acquiringAndReleasing).exchanged
      else { continue }
      if case .stream(let c) = endpoint.receiver { c.finish(throwing: error) }
      endpoint.onReset?(error)
    }
    log("reset: \(reason)")
  }
}
