import Firmware
import Foundation
import HostCPUs
import Remoteproc
import RemoteprocNative
import SharedMemory
import Synchronization

/// One run of a firmware process: the process, the thread waiting on its doorbell, the CPUs
/// it holds.
final class Run: Sendable {
  enum Phase: UInt8 { case starting, running, ending }

  let process: FirmwareProcess
  let record: ProcessStateFile
  private let phase = Atomic<UInt8>(Phase.starting.rawValue)
  let receiver = Mutex<DoorbellReceiver?>(nil)
  let reservation: CPUReservation?

  init(process: FirmwareProcess, record: ProcessStateFile, reservation: CPUReservation?) {
    self.process = process
    self.record = record
    self.reservation = reservation
  }

  var isRunning: Bool { phase.load(ordering: .acquiring) == Phase.running.rawValue }
  func markRunning() { phase.store(Phase.running.rawValue, ordering: .releasing) }

  /// Ends the run once: true for the caller that ended it (only that one reports a crash).
  func end(from expected: Phase) -> Bool {
    phase.compareExchange(expected: expected.rawValue, desired: Phase.ending.rawValue, ordering: .acquiringAndReleasing)
      .exchanged
  }

  func markEnding() { phase.store(Phase.ending.rawValue, ordering: .releasing) }

  /// Stops the threads and gives the CPUs back; the process is left as it is.
  func tearDown() {
    markEnding()
    process.stopMonitoring()
    receiver.withLock { $0 }?.stop()
    reservation?.release()
  }
}

extension ProcessPlatform {
  /// The ELF machine of this host.
  /// The ELF machine this host's executables have (x86-64 or AArch64).
  public static var hostMachine: ELFMachine {
    #if arch(x86_64)
      .x86_64
    #elseif arch(arm64)
      .aarch64
    #else
      ELFMachine(rawValue: 0)
    #endif
  }

  /// Accepts ELF64 executables (fixed or position-independent) of this machine and byte
  /// order whose resource table fits the table page and whose segments stay clear of the
  /// shared memory's device addresses. Linux: `rproc_elf_sanity_check`.
  /// True when `image` is an executable of this host (the process platform's firmware).
  public static func runsNatively(_ image: ELFImage) -> Bool {
    image.elfClass == .elf64 && image.machine == hostMachine && image.byteOrder == .host
  }

  public func checkImage(_ image: ELFImage) throws(RemoteprocError) {
    guard image.elfClass == .elf64, image.machine == Self.hostMachine, image.byteOrder == .host else {
      throw RemoteprocError(
        .malformedFirmware,
        "\(image.elfClass) \(image.byteOrder)-endian image for e_machine \(image.machine) cannot run as a native process here (ELF64 \(ByteOrder.host)-endian \(Self.hostMachine))")
    }
    guard image.fileType == .executable || image.fileType == .sharedObject else {
      throw RemoteprocError(
        .malformedFirmware, "ELF type \(image.fileType) is not an executable (ET_EXEC, or ET_DYN for position-independent ones)")
    }
    let location: ResourceTableLocation?
    do { location = try image.resourceTable(required: false) } catch {
      throw RemoteprocError(.badResourceTable, "\(error.message)")
    }
    if let location, location.table.byteCount > NativeLayout.tableSize {
      throw RemoteprocError(
        .badResourceTable,
        "the resource table has 0x\(String(location.table.byteCount, radix: 16)) bytes; a native firmware's must fit its page (0x1000)")
    }
    let shared = NativeLayout.deviceAddressBase..<NativeLayout.deviceAddressBase + UInt64(options.memorySize)
    for segment in image.loadableSegments {
      let (end, overflow) = segment.physicalAddress.addingReportingOverflow(segment.memorySize)
      if overflow || (segment.physicalAddress < shared.upperBound && end > shared.lowerBound) {
        throw RemoteprocError(
          .malformedFirmware,
          "segment \(segment.index) at 0x\(String(segment.physicalAddress, radix: 16)) overlaps the shared memory's device addresses [0x\(String(shared.lowerBound, radix: 16)), 0x\(String(shared.upperBound, radix: 16)))")
      }
    }
  }

  /// The kernel's `exec` loads a native firmware: nothing is copied here; the checked image
  /// is kept to be executed by ``start(bootAddress:notifier:)``. Linux: `rproc_ops.load`.
  public func load(_ image: ELFImage) throws(FirmwareError) {
    state.withLock { $0.image = image }
  }

  /// The table page of the shared memory. Linux: `rproc_ops.find_loaded_rsc_table`.
  public func loadedResourceTableAddress(of image: ELFImage, table: ResourceTableLocation) -> UInt64? {
    state.withLock { $0.tableSize = table.table.byteCount }
    return NativeLayout.tableDeviceAddress
  }

  /// For attach: the table page, as long as the firmware's host wrote it.
  public func loadedResourceTable() throws(RemoteprocError) -> (deviceAddress: UInt64, length: Int)? {
    let size: Int
    do { size = try control.tableSize } catch { throw RemoteprocError(.platform, "\(name): \(error)") }
    return size == 0 ? nil : (NativeLayout.tableDeviceAddress, size)
  }

  /// Starts the firmware: writes the control page, executes the image with the memfd
  /// inherited, pinned to ``Options/cpus``, and waits until the SDK acknowledges.
  public func start(bootAddress: UInt64, notifier: RemoteprocNotifier) async throws(RemoteprocError) {
    let (image, tableSize, epoch) = try state.withLock { (s) throws(RemoteprocError) -> (ELFImage, Int, UInt32) in
      guard s.run == nil else { throw RemoteprocError(.invalidState, "\(name): a firmware process already runs") }
      guard let image = s.image else {
        throw RemoteprocError(.invalidState, "\(name): no image was loaded before start")
      }
      s.image = nil
      s.detached = nil
      s.epoch = s.epoch == .max ? 1 : s.epoch + 1
      return (image, s.tableSize, s.epoch)
    }
    let executable: SharedMapping
    do {
      executable = try SharedMapping.memfd(name: "remoteproc-\(name)-image", count: image.bytes.count, closeOnExec: true)
      try executable.region.write(image.bytes, at: 0)
      try control.initialize(
        size: options.memorySize, tableSize: tableSize, mode: options.doorbell,
        watchdogMilliseconds: options.watchdog.map { UInt32(clamping: $0.components.seconds * 1000 + $0.components.attoseconds / 1_000_000_000_000_000) } ?? 0,
        epoch: epoch)
    } catch {
      throw RemoteprocError(.platform, "\(name): preparing the firmware: \(error)")
    }
    let reservation = try Self.reserve(options.cpus, for: name)
    let process: FirmwareProcess
    do throws(RemoteprocError) {
      process = try FirmwareProcess.spawn(
        image: executable.fileDescriptor ?? -1, memory: mapping.fileDescriptor ?? -1, cpus: options.cpus,
        exitsWithHost: options.exitsWithHost, tag: tag)
    } catch {
      reservation?.release()
      throw RemoteprocError(error.code, "\(name): \(error.message)")
    }
    let record = ProcessStateFile(
      name: name, pid: process.pid, startTime: ProcessStateFile.startTime(of: process.pid) ?? 0,
      memoryDescriptor: 3, memorySize: options.memorySize, cpus: options.cpus)
    let run = Run(process: process, record: record, reservation: reservation)
    try await begin(run, notifier: notifier, epoch: epoch, what: "start-up")
  }

  /// Starts watching `run`, waits for the firmware to acknowledge `epoch`, and records it.
  private func begin(
    _ run: Run, notifier: RemoteprocNotifier, epoch: UInt32, what: String
  ) async throws(RemoteprocError) {
    let name = self.name
    run.process.startMonitoring { [control] status in
      guard run.end(from: .running) else { return }
      var details = "\(name): the firmware process (pid \(run.process.pid)) \(status)"
      if let abort = try? control.abortRecord {
        details += " after rproc_abort(0x\(String(abort.code, radix: 16))) from pc 0x\(String(abort.pc, radix: 16))"
      }
      notifier.reportCrash(status.crashType, details: details)
    }
    run.receiver.withLock {
      $0 = DoorbellReceiver(
        control: control, notifier: notifier, mode: options.doorbell, watchdog: options.watchdog, name: "rproc-doorbell-\(name)",
        interrupt: { id in
          if let id { notifier.vringInterrupt(notifyID: id) } else { notifier.interruptAll() }
        },
        hung: { stillFor in
          guard run.end(from: .running) else { return }
          notifier.reportCrash(
            .watchdog, details: "\(name): the firmware process (pid \(run.process.pid)) has not beaten its heartbeat for \(stillFor)")
        })
    }
    state.withLock { $0.run = run }
    do throws(RemoteprocError) {
      try await waitForAcknowledgement(of: epoch, by: run, what: what)
      try run.record.write(directory: stateDirectory)
    } catch {
      state.withLock { $0.run = nil }
      run.process.signal(SIGKILL)
      _ = await run.process.waitForExit(within: Duration.seconds(10))
      run.tearDown()
      throw error
    }
    run.markRunning()
    // An end seen while starting was not reported: report it now.
    if let status = run.process.exitStatus, run.end(from: .running) {
      notifier.reportCrash(status.crashType, details: "\(name): the firmware process (pid \(run.process.pid)) \(status)")
    }
  }

  private func waitForAcknowledgement(of epoch: UInt32, by run: Run, what: String) async throws(RemoteprocError) {
    let clock = ContinuousClock()
    let deadline = clock.now.advanced(by: options.startTimeout)
    var pause = Duration.microseconds(20)
    while true {
      if (try? control.remoteEpoch) == epoch { return }
      if let status = run.process.exitStatus {
        throw RemoteprocError(
          .platform, "\(name): the firmware process (pid \(run.process.pid)) \(status) before it acknowledged \(what)")
      }
      guard clock.now < deadline else {
        throw RemoteprocError(
          .timedOut,
          "\(name): the firmware process (pid \(run.process.pid)) did not acknowledge \(what) within \(options.startTimeout); is it built with the SDK (firmware/sdk) or the RemoteprocRemote API?")
      }
      try? await Task.sleep(for: pause)
      pause = min(pause * 2, .milliseconds(2))
    }
  }

  /// SIGTERM, then SIGKILL after the grace period; returns once the process has ended.
  public func stop() async throws(RemoteprocError) {
    guard let run = state.withLock({ s -> Run? in defer { s.run = nil }; return s.run }) else { return }
    run.markEnding()
    if run.process.exitStatus == nil {
      run.process.signal(SIGTERM)
      if await run.process.waitForExit(within: options.stopGracePeriod) == nil {
        run.process.signal(SIGKILL)
        _ = await run.process.waitForExit(within: Duration.seconds(10))
      }
    }
    let ended = run.process.exitStatus != nil
    run.tearDown()
    ProcessStateFile.remove(directory: stateDirectory, name: name)
    guard ended else {
      throw RemoteprocError(.platform, "\(name): the firmware process (pid \(run.process.pid)) survived SIGKILL for 10 s")
    }
  }

  /// Leaves the firmware running, with the devices the core reset; a later
  /// ``attach(notifier:)`` (by this host, or by the next one through the state file) adopts it.
  public func detach() async throws(RemoteprocError) {
    guard let run = state.withLock({ s -> Run? in defer { s.run = nil }; return s.run }) else {
      throw RemoteprocError(.invalidState, "\(name): no firmware process runs")
    }
    run.markEnding()
    _ = try? control.toRemote.ring(notifyID: NativeLayout.kickAnyBit)  // let it see the reset
    run.tearDown()
    state.withLock { $0.detached = (run.record, run.process.isChild) }
  }

  /// Adopts the firmware left running (detached, or found at registration): its devices are
  /// reset in the live table, the host epoch changes so the SDK starts them afresh, and the
  /// firmware must acknowledge.
  public func attach(notifier: RemoteprocNotifier) async throws(RemoteprocError) {
    let (detached, epoch) = try state.withLock {
      (s) throws(RemoteprocError) -> ((record: ProcessStateFile, isChild: Bool), UInt32) in
      guard s.run == nil, let detached = s.detached else {
        throw RemoteprocError(.invalidState, "\(name): no firmware process was left running to attach to")
      }
      s.epoch = s.epoch == .max ? 1 : s.epoch + 1
      return (detached, s.epoch)
    }
    guard detached.record.processIsAlive else {
      state.withLock { $0.detached = nil }
      ProcessStateFile.remove(directory: stateDirectory, name: name)
      throw RemoteprocError(.invalidState, "\(name): the firmware process (pid \(detached.record.pid)) no longer runs")
    }
    let reservation = try Self.reserve(detached.record.cpus, for: name)
    let process: FirmwareProcess
    do {
      process = try FirmwareProcess.adopt(pid: detached.record.pid, isChild: detached.isChild)
      try resetDevices()
      try control.setHostEpoch(epoch)
      try control.toRemote.ring(notifyID: NativeLayout.kickAnyBit)
    } catch let error as RemoteprocError {
      reservation?.release()
      throw error
    } catch {
      reservation?.release()
      throw RemoteprocError(.platform, "\(name): \(error)")
    }
    state.withLock { $0.detached = nil }
    try await begin(
      Run(process: process, record: detached.record, reservation: reservation), notifier: notifier, epoch: epoch,
      what: "the new host")
  }

  /// Takes `cpus` for the firmware `name` and moves the host's threads off them.
  private static func reserve(_ cpus: [Int], for name: String) throws(RemoteprocError) -> CPUReservation? {
    do { return try CPUReservation.acquire(cpus, owner: name) } catch { throw RemoteprocError(error) }
  }

  /// Leaves the platform as a host that died would: its threads stop and the CPUs are given
  /// back, but the firmware, its memory, the live table and the state file stay as they are.
  /// For tests of attach after a host restart (which cannot kill their own process); the
  /// processor using this platform must not be used afterwards.
  public func simulateHostExit() {
    guard let run = state.withLock({ s -> Run? in defer { s.run = nil }; return s.run }) else { return }
    run.tearDown()
  }

  /// Writes status 0 into every vdev of the live table, so the firmware drops its rings before
  /// the new host's handshake.
  private func resetDevices() throws(RemoteprocError) {
    let size = (try? control.tableSize) ?? 0
    guard size > 0 else { return }
    do {
      let region = try sharedMemory.slice(at: NativeLayout.tableOffset, length: size)
      let table = try ResourceTable(bytes: try region.bytes(at: 0, count: size), byteOrder: .host)
      for entry in table.entries {
        if case .virtioDevice = entry.kind {
          try region.storeRelease(0, at: entry.payloadOffset + WireLayout.VirtioDevice.status)
        }
      }
    } catch {
      throw RemoteprocError(.badResourceTable, "\(name): the running firmware's table: \(error)")
    }
  }

  /// Rings the firmware's doorbell (Linux: `rproc_ops.kick`), or, on a thread inside
  /// ``batchingKicks(_:)``, notes the kick for the end of the batch.
  public func kick(notifyID: UInt32) {
    if batch.thread.load(ordering: .relaxed) == currentThread {
      batch.kicks.bitwiseOr(NativeDoorbell.bit(for: notifyID), ordering: .relaxed)
      return
    }
    _ = try? control.toRemote.ring(notifyID: notifyID)
  }

  /// Runs `body` with the kicks it causes on this thread held back and rung once at the end:
  /// a burst of sends then costs the firmware one wake-up (and the host at most one system
  /// call) instead of one per send. Linux: adding several buffers, then one `virtqueue_kick`.
  /// Batches do not nest across threads: while another thread batches, `body` just runs.
  public func batchingKicks<R, E: Error>(_ body: () throws(E) -> R) throws(E) -> R {
    let me = currentThread
    guard batch.thread.compareExchange(expected: 0, desired: me, ordering: .acquiringAndReleasing).exchanged else {
      return try body()
    }
    defer {
      batch.thread.store(0, ordering: .releasing)
      var kicks = batch.kicks.exchange(0, ordering: .acquiringAndReleasing)
      while kicks != 0 {
        let bit = UInt32(kicks.trailingZeroBitCount)
        kicks &= kicks - 1
        _ = try? control.toRemote.ring(notifyID: bit)
      }
    }
    return try body()
  }

  private var currentThread: UInt { UInt(pthread_self()) }
}
