import CRemoteprocEmulatedShims
import SharedMemory
import Synchronization

/// One emulated remote processor: its memory, its Unicorn engine and the owner thread that
/// runs it.
///
/// The memory is one `memfd` mapping, split into the machine's windows and mapped into the
/// guest with `uc_mem_map_ptr`, so ``memory(forDeviceAddress:length:)`` returns the very
/// bytes the guest sees. It outlives stop and start: load the firmware, then ``start(entry:bootRegisters:events:)``;
/// ``stop()`` halts the guest and joins its thread; start again for a new run.
///
/// A remoteproc platform adapter maps `struct rproc_ops` onto it: `start` → ``start(entry:bootRegisters:events:)``,
/// `stop` → ``stop()``, `kick` → ``kick(notifyId:)``, `da_to_va` →
/// ``memory(forDeviceAddress:length:)``, carveout allocation from ``carveoutWindows``, and the
/// events deliver `rproc_vq_interrupt` (``Events/guestKicked``) and `rproc_report_crash`
/// (``Events/crashed``).
public final class EmulatedCore: Sendable {
  /// Tunables of a core.
  public struct Options: Hashable, Sendable {
    /// Report a ``CrashReport/Kind/watchdog`` crash when the guest runs this long without
    /// idling in `wait`/`wfi` or writing the mailbox `WATCHDOG` register. nil: never.
    public var watchdogTimeout: Duration?
    /// How long the owner thread polls for a kick before it sleeps (waking a sleeping thread
    /// costs ~20 µs on a small VM; polling costs a host CPU for this long after each idle).
    public var idleSpin: Duration
    /// Count every guest instruction in ``Statistics/instructions`` (a Unicorn code hook:
    /// the guest runs several times slower). For measurements only.
    public var countsInstructions: Bool
    /// Add the time spent running guest code to ``Statistics/guestTime`` (two clock reads
    /// per return from the emulator). For measurements only.
    public var measuresGuestTime: Bool
    /// Count every guest store in ``Statistics/stores`` and ``Statistics/codePageStores``
    /// (a Unicorn memory-write hook: every store takes a slow path). For measurements only.
    public var countsStores: Bool
    /// CPUs taken from the host while the core runs (Linux: the MIPS driver's `cpus`): the
    /// owner thread runs on them only, and every other thread of this process leaves them
    /// from start until the run ends (stop, or a crash). Empty: no pinning.
    public var cpus: [Int]

    public init(
      watchdogTimeout: Duration? = .seconds(2), idleSpin: Duration = .microseconds(50),
      countsInstructions: Bool = false, measuresGuestTime: Bool = false,
      countsStores: Bool = false, cpus: [Int] = []
    ) {
      self.watchdogTimeout = watchdogTimeout
      self.idleSpin = idleSpin
      self.countsInstructions = countsInstructions
      self.measuresGuestTime = measuresGuestTime
      self.countsStores = countsStores
      self.cpus = cpus
    }
  }

  /// What the guest tells the host. Both are called on the core's owner thread; they must not
  /// block for long (the guest is paused while they run). Calling ``stop()`` from them is
  /// allowed: the thread then ends when the handler returns.
  public struct Events: Sendable {
    /// The guest rang the doorbell with this notify id (Linux: the platform's mailbox
    /// interrupt handler calling `rproc_vq_interrupt(rproc, notifyid)`). Ids of 31 and more
    /// arrive as 31.
    public var guestKicked: @Sendable (Int) -> Void
    /// The guest crashed (Linux: `rproc_report_crash`). The engine is gone by then; the
    /// memory is intact for a core dump. Called once per run.
    public var crashed: @Sendable (CrashReport) -> Void

    public init(
      guestKicked: @escaping @Sendable (Int) -> Void,
      crashed: @escaping @Sendable (CrashReport) -> Void
    ) {
      self.guestKicked = guestKicked
      self.crashed = crashed
    }
  }

  /// Where the core is in its life.
  public enum State: Hashable, Sendable {
    case offline
    case running
    /// The guest crashed; ``stop()`` (then start again) recovers.
    case crashed(CrashReport)
  }

  /// Counters since the core was created.
  public struct Statistics: Hashable, Sendable {
    /// Basic blocks the guest executed.
    public var blocks: UInt64
    /// Host kicks delivered to the guest as interrupts.
    public var interruptsDelivered: UInt64
    /// Times the guest went idle in `wait`/`wfi`.
    public var idles: UInt64
    /// Guest→host doorbell writes.
    public var doorbells: UInt64
    /// Host→guest kicks posted.
    public var kicks: UInt64
    /// Times the owner thread slept on its futex (an idle that outlasted the poll).
    public var sleeps: UInt64
    /// Times Unicorn returned with neither a halt, a hook nor an error (the guest resumed).
    public var spuriousExits: UInt64
    /// Guest instructions executed; 0 unless ``Options/countsInstructions``.
    public var instructions: UInt64
    /// Time the owner thread spent running guest code; zero unless
    /// ``Options/measuresGuestTime``.
    public var guestTime: Duration
    /// Guest stores (memory writes, MMIO included); 0 unless ``Options/countsStores``.
    public var stores: UInt64
    /// Of ``stores``, those to a target page the guest has run code from: QEMU sends each of
    /// them through its self-modifying-code check. 0 unless ``Options/countsStores``.
    public var codePageStores: UInt64
    /// Batches of host work (``perform(_:)``) the owner thread ran.
    public var hostWorkRuns: UInt64
  }

  public let machine: EmulatedMachine
  /// The options, with ``Options/cpus`` checked and sorted.
  public let options: Options
  /// What messages and the CPU registry call the core ("CPU 1 is already given to …").
  public let name: String
  /// The whole of the core's memory (every window, in order), for dumps and tools.
  public let mapping: SharedMapping
  let windows: [MemoryRegion]
  let slot: Int32
  let control: CoreControl

  /// Creates a core with zeroed memory. No thread runs until ``start(entry:bootRegisters:events:)``.
  ///
  /// - Parameter name: what messages call the core (rprocd: the device name, `remoteproc0`);
  ///   nil: its owner thread's name, `rproc-emu-<n>`.
  /// - Throws: ``EmulationError/Code/invalidCPUs`` for a ``Options/cpus`` list naming a CPU
  ///   that is out of range, listed twice, missing or offline, or every CPU of the host.
  public init(machine: EmulatedMachine, options: Options = Options(), name: String? = nil) throws(EmulationError) {
    try machine.validate()
    var options = options
    options.cpus = try Self.validate(cpus: options.cpus)
    let mapping: SharedMapping
    do {
      mapping = try SharedMapping.memfd(name: "rproc-\(machine.name)", count: machine.memoryByteCount)
    } catch {
      throw EmulationError(.memory, "cannot map \(machine.memoryByteCount) bytes: \(error)")
    }
    var windows: [MemoryRegion] = []
    var offset = 0
    for window in machine.memory {
      do {
        windows.append(try mapping.region.slice(at: offset, length: window.size))
      } catch {
        throw EmulationError(.memory, "window \(window.name): \(error)")
      }
      offset += window.size
    }
    let slot = rproc_emu_slot_create()
    guard slot >= 0 else {
      throw EmulationError(.outOfCores, "all \(RPROC_EMU_MAX_SLOTS) emulator slots are in use")
    }
    self.machine = machine
    self.options = options
    self.name = name ?? "rproc-emu-\(slot)"
    self.mapping = mapping
    self.windows = windows
    self.slot = slot
    self.control = CoreControl()
  }

  deinit {
    if rproc_emu_thread_is_current(slot) != 0 {
      // Dropped by its own event handler: the thread still needs the slot; leave it.
      rproc_emu_request_stop(slot)
      return
    }
    stop()
    rproc_emu_slot_destroy(slot)
  }

  // MARK: Memory

  /// The memory behind a device address range, or nil unless one window holds all of it.
  /// Linux: `rproc_ops.da_to_va`.
  public func memory(forDeviceAddress address: UInt64, length: Int) -> MemoryRegion? {
    guard let physical = machine.physicalAddress(forDeviceAddress: address, length: length)
    else { return nil }
    return memory(forPhysicalAddress: physical, length: length)
  }

  /// The memory behind a guest-physical range, or nil unless one window holds all of it.
  public func memory(forPhysicalAddress physical: UInt64, length: Int) -> MemoryRegion? {
    guard let (index, offset) = machine.window(containingPhysical: physical, length: length)
    else { return nil }
    return try? windows[index].slice(at: offset, length: length)
  }

  /// Windows where carveouts, vrings and vdev buffers may be allocated
  /// (Linux: where `rproc_alloc_carveout` finds memory for `FW_RSC_ADDR_ANY`).
  public var carveoutWindows: [EmulatedMachine.Window] {
    machine.memory.filter { $0.usage.contains(.carveouts) }
  }

  // MARK: Doorbells

  /// Posts a host→guest kick for a virtqueue (Linux: `rproc_ops.kick(rproc, vqid)`): sets its
  /// bit in the mailbox `PENDING` register (ids of 31 and more share bit 31) and interrupts the
  /// guest, or wakes it from `wait`/`wfi`. Callable from any thread, cheap, never blocks.
  public func kick(notifyId: Int) {
    precondition(notifyId >= 0, "negative notify id \(notifyId)")
    rproc_emu_kick(slot, UInt32(1) << UInt32(min(notifyId, 31)))
  }

  // MARK: State

  public var state: State { control.state.withLock { $0.phase } }

  /// The name of the core's owner thread while it runs (`ps -L`, `/proc/self/task/*/comm`).
  public var ownerThreadName: String { "rproc-emu-\(slot)" }

  public var statistics: Statistics {
    func value(_ field: Int32) -> UInt64 { rproc_emu_statistic(slot, field) }
    return Statistics(
      blocks: value(RPROC_EMU_STAT_BLOCKS), interruptsDelivered: value(RPROC_EMU_STAT_INTERRUPTS),
      idles: value(RPROC_EMU_STAT_IDLES), doorbells: value(RPROC_EMU_STAT_DOORBELLS),
      kicks: value(RPROC_EMU_STAT_KICKS), sleeps: value(RPROC_EMU_STAT_SLEEPS),
      spuriousExits: value(RPROC_EMU_STAT_SPURIOUS_EXITS),
      instructions: value(RPROC_EMU_STAT_INSTRUCTIONS),
      guestTime: .nanoseconds(Int64(truncatingIfNeeded: value(RPROC_EMU_STAT_GUEST_NS))),
      stores: value(RPROC_EMU_STAT_STORES), codePageStores: value(RPROC_EMU_STAT_CODE_PAGE_STORES),
      hostWorkRuns: control.workRuns.load(ordering: .relaxed))
  }

  /// Stops delivering guest events (Linux: `rproc_ops.detach`): the guest keeps running, and
  /// the notify ids it rings meanwhile are kept for ``attach(events:)``.
  public func detach() {
    control.state.withLock { $0.events = nil }
  }

  /// Delivers guest events to `events` again (Linux: `rproc_ops.attach`) and returns the
  /// notify ids rung while detached, for the caller to service.
  @discardableResult
  public func attach(events: Events) -> [Int] {
    control.state.withLock { state in
      state.events = events
      let rung = state.detachedDoorbells
      state.detachedDoorbells = 0
      return (0..<32).filter { rung & (1 << $0) != 0 }
    }
  }
}

/// The part of a core its owner thread shares with other threads.
final class CoreControl: Sendable {
  struct Shared: Sendable {
    var phase: EmulatedCore.State = .offline
    var events: EmulatedCore.Events?
    var detachedDoorbells: UInt32 = 0
  }

  /// Taken briefly by every thread, the owner thread included.
  let state = Mutex(Shared())
  /// Host work queued for the owner thread (``EmulatedCore/perform(_:)``), in order.
  let work = Mutex<[@Sendable () -> Void]>([])
  /// Host work for when the guest next idles (``EmulatedCore/performWhenIdle(_:)``), in order.
  let idleWork = Mutex<[@Sendable () -> Void]>([])
  let workRuns = Atomic<UInt64>(0)
  /// Serializes start and stop, and is held while joining the owner thread; the owner thread
  /// never takes it. True while a thread has been spawned and not yet joined.
  let lifecycle = Mutex(false)
}

extension EmulatedCore {
  /// The host memory behind each of the machine's windows, in the order of
  /// `machine.memory`: what a platform adapter hands the remoteproc core as its memory map.
  public var windowRegions: [(window: EmulatedMachine.Window, region: MemoryRegion)] {
    Array(zip(machine.memory, windows))
  }
}
