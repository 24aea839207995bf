import Firmware

extension RemoteProcessor {
  /// A crash reported by the platform for run `run`. Linux: `rproc_crash_handler_work`.
  ///
  /// Only the first crash of a run is handled: later reports of the same run, reports while
  /// the remote is stopped, and reports from an earlier run (arriving after a restart) are
  /// counted in ``ignoredCrashReports`` and dropped.
  func handleCrashReport(_ type: CrashType, details: String, run: Int) async {
    await acquire()
    defer { release() }
    guard run == generation, state == .running || state == .attached else {
      ignoredCrashReports += 1
      return
    }
    crashCount += 1
    pendingCrash = (type, details)
    setState(.crashed)
    events.send(.crashed(processor: deviceName, type: type, details: details))
    if !recoveryDisabled {
      await recover()
    }
  }

  /// Makes the platform report a crash, as Linux's debugfs `crash` file does (for tests and
  /// for exercising recovery). Linux: `rproc_report_crash` from `rproc_crash_write`.
  public func simulateCrash(_ type: CrashType) async throws(RemoteprocError) {
    guard state == .running || state == .attached else {
      throw RemoteprocError(.invalidState, "\(deviceName) is \(state); only a running remote can crash")
    }
    await handleCrashReport(type, details: "crash requested through the crash file", run: generation)
  }

  /// Recovers a crashed remote now (recovery may be disabled). Linux: `rproc_trigger_recovery`.
  public func triggerRecovery() async {
    await acquire()
    defer { release() }
    guard state == .crashed else { return }
    await recover()
  }

  /// Linux: `rproc_boot_recovery`: stop, dump, reload the same firmware, start again.
  /// If any step fails the remote is left offline with its resources released and every
  /// boot reference dropped, and a `recoveryFailed` event says why.
  func recover() async {
    let crash = pendingCrash ?? (.fatalError, "recovery requested")
    do throws(RemoteprocError) {
      try await stopRemote(crashed: true)
      if coredumpMode != .disabled { takeCoredump(crash) }
      guard session?.isAttach != true else {
        throw RemoteprocError(
          .unsupported, "\(deviceName) was attached, not booted: there is no firmware to reload")
      }
      let image = try firmwareStore.image(named: firmwareName)
      try checkSameTable(image)
      try await startRemote(image)
      pendingCrash = nil
      events.send(.recovered(processor: deviceName))
    } catch {
      if state != .offline { _ = try? await stopRemote(crashed: true) }
      await cleanUpResources()
      await platform.unprepare()
      powerReferences = 0
      pendingCrash = nil
      setState(.offline)
      events.send(.recoveryFailed(processor: deviceName, reason: error.message))
    }
  }

  /// Recovery reuses the memory of the first boot, so the firmware read again must publish
  /// the same table (Linux copies its cached table in without looking).
  func checkSameTable(_ image: ELFImage) throws(RemoteprocError) {
    let now: ResourceTable?
    do { now = try image.resourceTable(required: false)?.table } catch {
      throw RemoteprocError(error, firmware: firmwareName)
    }
    guard now?.bytes == session?.originalTable?.bytes else {
      throw RemoteprocError(
        .badResourceTable,
        "\(firmwareName) changed on disk since boot and publishes a different resource table; stop and start the processor to load it")
    }
  }
}
