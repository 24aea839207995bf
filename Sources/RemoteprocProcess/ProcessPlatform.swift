import Firmware
import Foundation
import HostCPUs
import Remoteproc
import RemoteprocNative
import SharedMemory
import Synchronization

/// A remote processor that is a native Linux process: the firmware is an ELF64 executable of
/// this machine built with the SDK (`firmware/sdk`, or the `RemoteprocRemote` Swift API),
/// pinned to CPUs the host gives up, sharing a memfd with the host and woken by futex
/// doorbells in it. Linux: the `struct rproc_ops` of a platform driver such as
/// `mips_remoteproc.c`, which runs firmware on a CPU taken from Linux.
///
/// - The image is checked like any firmware and its resource table handled by the core, but
///   its code is loaded by the kernel's `exec` (of the checked bytes, from a memfd), not
///   copied into carveouts: ``load(_:)`` copies no segment.
/// - The resource table is copied to the table page of the shared memfd, carveouts, vrings
///   and rpmsg buffers are allocated in its pool, the trace buffer is its trace area
///   (``NativeLayout``). The firmware gets the memfd as descriptor 3 and its number in
///   `RPROC_SHM_FD`.
/// - Crashes: the process's end is seen through a pidfd. SIGSEGV and SIGBUS are MMU faults,
///   anything else (another signal, an exit) a fatal error; a watchdog (optional) reports a
///   firmware whose heartbeat stands still.
/// - Stop: SIGTERM, then SIGKILL after ``Options/stopGracePeriod``.
/// - Attach after a host restart: a state file names the process and its memfd, which is
///   reopened through `/proc/<pid>/fd`; the table and rings are adopted where they are.
///
/// See docs/process-platform.md.
public final class ProcessPlatform: RemoteProcessorPlatform {
  /// How the platform runs its firmware.
  public struct Options: Sendable {
    /// CPUs the firmware is pinned to and the host's threads leave while it runs (Linux: the
    /// MIPS driver's `cpus`). Empty: no pinning.
    public var cpus: [Int]
    /// Bytes of shared memory (a multiple of 4096, at least 0x5000, at most 2 GiB).
    public var memorySize: Int
    /// How both sides wait for doorbells: sleeping (the default, no CPU burnt) or adaptive
    /// (poll briefly, then sleep).
    public var doorbell: DoorbellMode
    /// Report a crash (`watchdog`) when the firmware's heartbeat stands still this long.
    /// The SDK beats whenever it waits for a kick, and at least twice per period while it
    /// sleeps. Nil: no watchdog.
    public var watchdog: Duration?
    /// How long the firmware has to acknowledge start-up or a new host.
    public var startTimeout: Duration
    /// How long ``stop()`` waits after SIGTERM before SIGKILL.
    public var stopGracePeriod: Duration
    /// Where the state file for attach-after-restart goes (nil: `$XDG_RUNTIME_DIR/swift-remoteproc`,
    /// else `/tmp/swift-remoteproc-<uid>`).
    public var stateDirectory: String?
    /// Kill the firmware when the host process exits (`PR_SET_PDEATHSIG`); then it cannot be
    /// attached after a restart. Tests use it so that nothing outlives them.
    public var exitsWithHost: Bool

    public init(
      cpus: [Int] = [], memorySize: Int = 1 << 20, doorbell: DoorbellMode = .sleep, watchdog: Duration? = nil,
      startTimeout: Duration = .seconds(10), stopGracePeriod: Duration = .seconds(2), stateDirectory: String? = nil,
      exitsWithHost: Bool = false
    ) {
      self.cpus = cpus
      self.memorySize = memorySize
      self.doorbell = doorbell
      self.watchdog = watchdog
      self.startTimeout = startTimeout
      self.stopGracePeriod = stopGracePeriod
      self.stateDirectory = stateDirectory
      self.exitsWithHost = exitsWithHost
    }
  }

  /// The platform's name: the state file's name, and the processes' `argv[0]` tag.
  public let name: String
  /// The options, with `cpus` checked and sorted.
  public let options: Options
  public let memory: PlatformMemory
  /// The whole shared memfd (control page included).
  public let sharedMemory: MemoryRegion
  let mapping: SharedMapping
  let control: NativeControlPage
  let stateDirectory: String
  private let adoptedAtRegistration: Bool
  let tag: Int
  let state: Mutex<State>
  /// The thread in ``batchingKicks(_:)`` (0: none) and the kicks it held back.
  let batch = KickBatch()

  private static let instances = Atomic<Int>(0)

  final class KickBatch: Sendable {
    let thread = Atomic<UInt>(0)
    let kicks = Atomic<UInt32>(0)
  }

  struct State {
    /// The image ``load(_:)`` was given, for the next ``start(bootAddress:notifier:)``.
    var image: ELFImage?
    var tableSize = 0
    var run: Run?
    /// A firmware left running: detached, or found at registration.
    var detached: (record: ProcessStateFile, isChild: Bool)?
    var epoch: UInt32 = 0
  }

  /// Checks the options and creates the shared memory; or, when the state file says a
  /// firmware of this name still runs, adopts its memory (the processor then starts
  /// `detached`, and booting it attaches).
  public init(name: String, options: Options = .init()) throws(RemoteprocError) {
    guard !name.isEmpty, name.utf8.count <= 64,
      name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "._-".contains($0)) }), !name.hasPrefix(".")
    else {
      throw RemoteprocError(.invalidArgument, "process platform name \(name.debugDescription): use 1...64 of A-Z a-z 0-9 . _ -")
    }
    var options = options
    do { options.cpus = try CPUReservation.validate(options.cpus) } catch { throw RemoteprocError(error) }
    let size = options.memorySize
    guard size % NativeLayout.pageSize == 0, size >= NativeLayout.minimumSize, size <= NativeLayout.maximumSize else {
      throw RemoteprocError(
        .invalidArgument,
        "memorySize 0x\(String(size, radix: 16)): it must be a multiple of 0x1000 in 0x\(String(NativeLayout.minimumSize, radix: 16))...0x80000000")
    }
    self.name = name
    self.stateDirectory = options.stateDirectory ?? ProcessStateFile.defaultDirectory
    self.tag = Self.instances.add(1, ordering: .relaxed).oldValue
    var state = State()
    var adopted: SharedMapping?
    if let record = ProcessStateFile.read(directory: stateDirectory, name: name) {
      if record.processIsAlive, let mapping = Self.adoptMemory(of: record) {
        adopted = mapping
        options.cpus = record.cpus
        options.memorySize = record.memorySize
        state.detached = (record, false)
      } else {
        ProcessStateFile.remove(directory: stateDirectory, name: name)
      }
    }
    self.options = options
    if let adopted {
      mapping = adopted
    } else {
      do {
        mapping = try SharedMapping.memfd(name: "remoteproc-\(name)", count: options.memorySize, closeOnExec: true)
      } catch {
        throw RemoteprocError(.outOfMemory, "\(name): shared memory of \(options.memorySize) bytes: \(error.message)")
      }
    }
    adoptedAtRegistration = adopted != nil
    sharedMemory = mapping.region
    do {
      control = try NativeControlPage(region: mapping.region)
      if adopted != nil { state.epoch = try control.hostEpoch }
      let fixed = try mapping.region.slice(at: NativeLayout.tableOffset, length: NativeLayout.poolOffset - NativeLayout.tableOffset)
      let pool = try mapping.region.slice(at: NativeLayout.poolOffset, length: options.memorySize - NativeLayout.poolOffset)
      memory = PlatformMemory([
        MemoryWindow(
          name: "native table and trace", deviceAddress: NativeLayout.tableDeviceAddress, region: fixed,
          isAllocationPool: false),
        MemoryWindow(
          name: "native pool", deviceAddress: NativeLayout.deviceAddressBase + UInt64(NativeLayout.poolOffset),
          region: pool),
      ])
    } catch {
      throw RemoteprocError(.platform, "\(name): \(error)")
    }
    self.state = Mutex(state)
  }

  /// Reopens the memfd of a firmware process that a previous host started.
  private static func adoptMemory(of record: ProcessStateFile) -> SharedMapping? {
    guard record.memorySize >= NativeLayout.minimumSize, record.memorySize <= NativeLayout.maximumSize,
      let fd = try? FileDescriptorIO.open("/proc/\(record.pid)/fd/\(record.memoryDescriptor)", flags: O_RDWR | O_CLOEXEC)
    else { return nil }
    guard let mapping = try? SharedMapping.file(descriptor: fd, count: record.memorySize, takingOwnership: true) else {
      _ = close(fd)
      return nil
    }
    guard let page = try? NativeControlPage(region: mapping.region), (try? page.validate(size: record.memorySize)) != nil,
      (try? page.remotePID) == UInt32(bitPattern: record.pid)
    else { return nil }
    return mapping
  }

  public var platformName: String { "process" }
  public var byteOrder: ByteOrder { .host }
  public var isRunningAtRegistration: Bool { adoptedAtRegistration }

  /// The firmware processes' `argv[0]` ("remoteproc-<n>", as `ps` shows them).
  public var processName: String { "remoteproc-\(tag)" }

  /// The firmware process's id while one runs (or is left running, detached).
  public var processID: Int32? {
    state.withLock { $0.run?.process.pid ?? $0.detached?.record.pid }
  }
}
