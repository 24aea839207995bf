import Firmware
import SharedMemory

extension RemoteProcessor {
  /// Boots the remote: loads the firmware, handles its resources and starts it; or, when it
  /// is `detached` (running, started by someone else), attaches to it. Reference counted:
  /// only the first call boots, later ones just count. Linux: `rproc_boot`.
  public func boot() async throws(RemoteprocError) {
    await acquire()
    defer { release() }
    switch state {
    case .running, .attached:
      powerReferences += 1
      return
    case .crashed, .suspended:
      throw RemoteprocError(.busy, "\(deviceName) is \(state); recover or stop it before booting")
    case .offline, .detached:
      break
    }
    powerReferences += 1
    do throws(RemoteprocError) {
      if state == .detached {
        try await attachToRunning()
      } else {
        let image = try firmwareStore.image(named: firmwareName)
        try await firmwareBoot(image)
      }
    } catch {
      powerReferences -= 1
      throw error
    }
  }

  /// Drops a boot reference; the last one stops the remote and releases its resources.
  /// A crashed remote (recovery disabled, or failed) can be stopped too, whatever the count.
  /// Linux: `rproc_shutdown` (which refuses a crashed remote).
  public func shutdown() async throws(RemoteprocError) {
    await acquire()
    defer { release() }
    switch state {
    case .running, .attached:
      powerReferences -= 1
      guard powerReferences == 0 else { return }
      do throws(RemoteprocError) {
        try await stopRemote(crashed: false)
      } catch {
        powerReferences += 1
        throw error
      }
    case .crashed:
      try await stopRemote(crashed: true)
      powerReferences = 0
    case .offline, .suspended, .detached:
      throw RemoteprocError(.invalidState, "\(deviceName) is \(state), not running: nothing to stop")
    }
    await cleanUpResources()
    await platform.unprepare()
  }

  /// Linux: `rproc_fw_boot`, each failure undoing the steps before it in reverse.
  func firmwareBoot(_ image: ELFImage) async throws(RemoteprocError) {
    try checkImage(image)
    try await platform.prepare()
    do throws(RemoteprocError) {
      var session = BootSession(firmwareName: firmwareName)
      session.bootAddress = image.entryPoint
      session.segments = image.loadableSegments
      session.coreFormat = CoreFormat(elfClass: image.elfClass, byteOrder: image.byteOrder, machine: image.machine)
      try parseFirmware(image, into: &session)
      self.session = session
      do throws(RemoteprocError) {
        try handleResources(image: image)
        try await startRemote(image)
      } catch {
        await cleanUpResources()
        throw error
      }
    } catch {
      await platform.unprepare()
      throw error
    }
  }

  /// Linux: `rproc_fw_sanity_check` (the ELF checks ran when the image was parsed).
  func checkImage(_ image: ELFImage) throws(RemoteprocError) {
    try platform.checkImage(image)
  }

  /// Linux: `rproc_elf_load_rsc_table`: keep a host copy of the table to write into.
  func parseFirmware(_ image: ELFImage, into session: inout BootSession) throws(RemoteprocError) {
    let location: ResourceTableLocation?
    do { location = try image.resourceTable(required: false) } catch {
      throw RemoteprocError(error, firmware: firmwareName)
    }
    guard let location else { return }
    session.originalTable = location.table
    session.loadedTableAddress = platform.loadedResourceTableAddress(of: image, table: location)
    session.cache = try Self.hostCopy(of: location.table)
  }

  static func hostCopy(of table: ResourceTable) throws(RemoteprocError) -> LoadedResourceTable {
    do {
      let mapping = try SharedMapping.anonymous(count: max(table.byteCount, 1))
      let region = try mapping.region.slice(at: 0, length: table.byteCount)
      try region.write(table.bytes, at: 0)
      return try LoadedResourceTable(table: table, region: region)
    } catch let error as SharedMemoryError {
      throw RemoteprocError(error, "copying the resource table")
    } catch {
      throw RemoteprocError(.outOfMemory, "copying the resource table: \(error)")
    }
  }

  /// Linux: `rproc_start`: load, copy the table in, prepare subdevices, start, start
  /// subdevices. Used by boot and by recovery.
  func startRemote(_ image: ELFImage) async throws(RemoteprocError) {
    guard var session else { preconditionFailure("startRemote without a session") }
    do {
      try platform.load(image)
    } catch {
      throw RemoteprocError(error, firmware: firmwareName)
    }
    for trace in session.traces where translate(UInt64(trace.deviceAddress), Int(trace.length)) == nil {
      throw RemoteprocError(
        .addressNotMapped,
        "\(firmwareName): trace \(trace.name) at da \(hex(trace.deviceAddress)) length \(hex(trace.length)) is not in memory the platform maps")
    }
    if let cache = session.cache, let da = session.loadedTableAddress,
      let remote = translate(da, cache.table.byteCount)
    {
      do {
        try remote.copy(from: cache.region, at: 0, count: cache.table.byteCount, to: 0)
        session.loaded = try LoadedResourceTable(table: cache.table, region: remote)
      } catch let error as SharedMemoryError {
        throw RemoteprocError(error, "copying the resource table to da \(hex(da))")
      } catch {
        throw RemoteprocError(.badResourceTable, "\(error)")
      }
    }
    self.session = session
    let notifier = makeNotifier()
    let drivers = try makeVirtioDrivers(notifier: notifier)
    self.session?.subdevices = drivers
    try await prepareSubdevices()
    do throws(RemoteprocError) {
      try await platform.start(bootAddress: session.bootAddress, notifier: notifier)
      do throws(RemoteprocError) {
        try await startSubdevices(notifier: notifier)
      } catch {
        _ = try? await platform.stop()
        throw error
      }
    } catch {
      await unprepareSubdevices()
      self.session?.subdevices = []
      self.session?.loaded = nil
      throw error
    }
    self.session?.isStarted = true
    setState(.running)
  }

  /// Linux: `rproc_stop`: stop subdevices, keep using the host copy of the table, stop the
  /// remote, unprepare subdevices.
  func stopRemote(crashed: Bool) async throws(RemoteprocError) {
    await stopSubdevices(crashed: crashed)
    session?.loaded = nil
    if session?.isStarted == true || state == .crashed {
      try await platform.stop()
    }
    session?.isStarted = false
    await unprepareSubdevices()
    session?.subdevices = []
    setState(.offline)
  }

  /// Linux: `rproc_resource_cleanup`: forget carveouts, traces and vdevs.
  func cleanUpResources() async {
    session = nil
  }
}
