import Firmware
import SharedMemory

extension RemoteProcessor {
  /// Adopts a remote someone else started, from the resource table in its memory, without
  /// loading anything. Linux: `rproc_attach`.
  func attachToRunning() async throws(RemoteprocError) {
    try await platform.prepare()
    do throws(RemoteprocError) {
      var session = BootSession(firmwareName: nil)
      session.isAttach = true
      if let (da, length) = try platform.loadedResourceTable() {
        guard let region = translate(da, length) else {
          throw RemoteprocError(
            .addressNotMapped, "the running remote's resource table at da \(hex(da)) length \(hex(length)) is not mapped")
        }
        let table: ResourceTable
        do {
          table = try ResourceTable(bytes: try region.bytes(at: 0, count: length), byteOrder: platform.byteOrder)
        } catch let error as FirmwareError {
          throw RemoteprocError(error, firmware: "the running remote's table")
        } catch {
          throw RemoteprocError(.addressNotMapped, "reading the running remote's table: \(error)")
        }
        session.originalTable = table
        session.loadedTableAddress = da
        session.cache = try Self.hostCopy(of: table)
        do { session.loaded = try LoadedResourceTable(table: table, region: region) } catch {
          throw RemoteprocError(error, firmware: "the running remote's table")
        }
      }
      self.session = session
      do throws(RemoteprocError) {
        try handleResources(image: nil)
        // Write what we found (or allocated) into the live table, as Linux's handlers do.
        if let cache = self.session?.cache, let loaded = self.session?.loaded {
          do {
            try loaded.region.copy(from: cache.region, at: 0, count: cache.table.byteCount, to: 0)
          } catch {
            throw RemoteprocError(error, "updating the running remote's table")
          }
        }
        let notifier = makeNotifier()
        let drivers = try makeVirtioDrivers(notifier: notifier)
    self.session?.subdevices = drivers
        try await prepareSubdevices()
        do throws(RemoteprocError) {
          try await platform.attach(notifier: notifier)
          try await startSubdevices(notifier: notifier)
        } catch {
          await unprepareSubdevices()
          throw error
        }
        self.session?.isStarted = true
        setState(.attached)
      } catch {
        await cleanUpResources()
        throw error
      }
    } catch {
      await platform.unprepare()
      throw error
    }
  }

  /// Lets go of a remote, leaving it running, with its resource table put back as the
  /// firmware (or the previous host) published it. Linux: `rproc_detach`, which only
  /// detaches attached remotes; here a remote we booted can be detached too when the
  /// platform supports it (a native process keeps running after the host exits).
  public func detach() async throws(RemoteprocError) {
    await acquire()
    defer { release() }
    guard state == .attached || state == .running else {
      throw RemoteprocError(.invalidState, "\(deviceName) is \(state); only a running or attached remote can be detached")
    }
    powerReferences -= 1
    guard powerReferences == 0 else { return }
    await stopSubdevices(crashed: false)
    do throws(RemoteprocError) {
      if let loaded = session?.loaded { try writeBack { () throws(FirmwareError) in try loaded.restoreOriginal() } }
      try await platform.detach()
    } catch {
      powerReferences += 1
      throw error
    }
    await unprepareSubdevices()
    session?.subdevices = []
    await cleanUpResources()
    await platform.unprepare()
    setState(.detached)
  }
}
