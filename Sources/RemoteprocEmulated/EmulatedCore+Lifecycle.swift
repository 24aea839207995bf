import CRemoteprocEmulatedShims
import CUnicorn
import Dispatch
import HostCPUs
import SharedMemory
import Synchronization

extension EmulatedCore {
  /// Boots the guest on a new owner thread (Linux: `rproc_ops.start`).
  ///
  /// The firmware must already be in memory. `entry` is the ELF entry point; a machine that
  /// boots from a vector table (Cortex-M4) loads SP and PC from it instead, like the
  /// hardware. `bootRegisters` replaces the machine's boot registers (nil: the machine's).
  /// Returns once the engine is set up; throws if it could not be.
  public func start(
    entry: UInt64, bootRegisters: [BootRegister]? = nil, events: Events
  ) throws(EmulationError) {
    try control.lifecycle.withLock { (spawned: inout Bool) throws(EmulationError) in
      if case .running = control.state.withLock({ $0.phase }) {
        throw EmulationError(.invalidState, "\(machine.name) core is already running")
      }
      if spawned {
        // A previous run ended by itself (crash, or stop from its own handler): reap it.
        _ = rproc_emu_thread_join(slot)
        spawned = false
      }
      let boot = try bootPlan(entry: entry, registers: bootRegisters)
      // The host's threads leave the CPUs before the owner thread exists, which is born on them.
      let reservation = try reserveCPUs()
      configureSlot()
      let runner = Runner(core: self, boot: boot, reservation: reservation)
      control.state.withLock {
        $0.phase = .running
        $0.events = events
        $0.detachedDoorbells = 0
      }
      control.work.withLock { $0.removeAll() }
      control.idleWork.withLock { $0.removeAll() }
      runners.withLock { $0[slot] = runner }
      let cpus = CPUMask(options.cpus).words
      let error = rproc_emu_thread_spawn(slot, { slot in Runner.threadMain(slot: slot) }, cpus[0], cpus[1], cpus[2], cpus[3])
      guard error == 0 else {
        runners.withLock { _ = $0.removeValue(forKey: slot) }
        control.state.withLock { $0.phase = .offline }
        reservation?.release()
        let on = options.cpus.isEmpty ? "" : " on CPUs \(options.cpus.map(String.init).joined(separator: ","))"
        throw EmulationError(.thread, "cannot start the owner thread\(on)", errno: error)
      }
      spawned = true
      runner.ready.wait()
      if let failure = runner.setupFailure.withLock({ $0 }) {
        _ = rproc_emu_thread_join(slot)
        spawned = false
        runners.withLock { _ = $0.removeValue(forKey: slot) }
        control.state.withLock { $0.phase = .offline }
        throw failure
      }
    }
  }

  /// Halts the guest and joins its owner thread (Linux: `rproc_ops.stop`). The memory is kept.
  /// Idempotent. From the core's own event handler it only asks the thread to end.
  public func stop() {
    rproc_emu_request_stop(slot)
    if rproc_emu_thread_is_current(slot) != 0 {
      control.state.withLock { $0.phase = .offline }
      return
    }
    control.lifecycle.withLock { spawned in
      if spawned {
        _ = rproc_emu_thread_join(slot)
        spawned = false
      }
      runners.withLock { _ = $0.removeValue(forKey: slot) }
      control.state.withLock { $0.phase = .offline }
    }
  }

  /// The registers and PC the first instruction runs with.
  func bootPlan(entry: UInt64, registers: [BootRegister]?) throws(EmulationError) -> BootPlan {
    switch machine.boot {
    case .entryPoint(let defaults):
      return BootPlan(pc: entry, registers: registers ?? defaults)
    case .vectorTable(let address):
      guard let table = memory(forDeviceAddress: address, length: 8),
        let stack = try? table.load(UInt32.self, at: 0, order: machine.byteOrder),
        let reset = try? table.load(UInt32.self, at: 4, order: machine.byteOrder)
      else {
        throw EmulationError(
          .memory, "vector table at 0x\(String(address, radix: 16)) is outside memory")
      }
      guard reset & 1 == 1 else {
        throw EmulationError(
          .invalidState,
          "reset vector 0x\(String(reset, radix: 16)) is not a Thumb address (bit 0 clear)")
      }
      let sp = BootRegister(name: "sp", value: UInt64(stack), unicornID: Int32(UC_ARM_REG_SP.rawValue))
      return BootPlan(pc: UInt64(reset & ~1), registers: [sp] + (registers ?? []))
    }
  }

  func configureSlot() {
    switch machine.interrupts {
    case .handlerCall(let line, let magicReturn):
      rproc_emu_configure_interrupts(slot, Int32(line), magicReturn, 0)
    case .softwareInterrupt:
      rproc_emu_configure_interrupts(slot, 1, 0, 0)  // SSIP, mcause 1
    case .exception(let irq, let vectorTable):
      rproc_emu_configure_interrupts(slot, Int32(irq), 0, vectorTable)
    }
    rproc_emu_configure_watchdog(slot, options.watchdogTimeout.map(nanoseconds) ?? 0)
    rproc_emu_configure_idle_spin(slot, nanoseconds(options.idleSpin))
    rproc_emu_configure_profiling(
      slot, options.countsInstructions ? 1 : 0, options.measuresGuestTime ? 1 : 0,
      options.countsStores ? 1 : 0)
  }
}

func nanoseconds(_ duration: Duration) -> Int64 {
  let (seconds, attoseconds) = duration.components
  return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
}

struct BootPlan: Sendable {
  var pc: UInt64
  var registers: [BootRegister]
}

/// Owner threads find their runner here by slot: a C thread can carry only an integer.
let runners = Mutex<[Int32: Runner]>([:])

/// One run of a core, executed by its owner thread: sets the engine up, runs the guest,
/// dispatches doorbells and crashes, and closes the engine.
final class Runner: Sendable {
  let slot: Int32
  let machine: EmulatedMachine
  let windows: [MemoryRegion]
  let boot: BootPlan
  let control: CoreControl
  let ready = DispatchSemaphore(value: 0)
  let setupFailure = Mutex<EmulationError?>(nil)
  /// The CPUs of this run (``EmulatedCore/Options/cpus``), given back when it ends.
  let reservation: CPUReservation?

  init(core: EmulatedCore, boot: BootPlan, reservation: CPUReservation?) {
    slot = core.slot
    machine = core.machine
    windows = core.windows
    self.boot = boot
    control = core.control
    self.reservation = reservation
  }

  static func threadMain(slot: Int32) {
    guard let runner = runners.withLock({ $0[slot] }) else { return }
    runner.main()
  }

  func main() {
    do throws(EmulationError) {
      // Born on the CPUs already; registering keeps the host's thread moves off this thread.
      do { try reservation?.pinCallingThread() } catch { throw EmulationError(error) }
      try setUp()
    } catch {
      rproc_emu_close(slot)
      reservation?.release()
      setupFailure.withLock { $0 = error }
      ready.signal()
      return
    }
    ready.signal()
    while true {
      let result = rproc_emu_run(slot)
      dispatch(rproc_emu_take_doorbells(slot))
      if result == RPROC_EMU_RUN_WORK {
        runWork(control.work)
        continue
      }
      if result == RPROC_EMU_RUN_IDLE_WORK {
        runWork(control.idleWork)
        continue
      }
      guard result == RPROC_EMU_RUN_DOORBELL else {
        let report = result == RPROC_EMU_RUN_CRASHED ? CrashReport(slot: slot) : nil
        rproc_emu_close(slot)
        // The guest is gone (stopped or crashed): the host has its CPUs back before it hears.
        reservation?.release()
        if let report { crashed(report) }
        return
      }
    }
  }

  func setUp() throws(EmulationError) {
    let arch: Int32 =
      switch machine.architecture {
      case .mips32: RPROC_EMU_ARCH_MIPS32
      case .riscv32: RPROC_EMU_ARCH_RISCV32
      case .cortexM4: RPROC_EMU_ARCH_CORTEX_M4
      }
    func check(_ status: Int32, _ what: @autoclosure () -> String) throws(EmulationError) {
      guard status == 0 else { throw EmulationError(.emulator, "\(what()): uc_err \(status)") }
    }
    try check(rproc_emu_open(slot, arch, machine.byteOrder == .big ? 1 : 0), "uc_open \(machine.name)")
    for (window, region) in zip(machine.memory, windows) {
      try check(
        rproc_emu_map(slot, window.physicalAddress, UInt64(window.size), UInt64(region.hostAddress)),
        "mapping \(window.name) at 0x\(String(window.physicalAddress, radix: 16))")
    }
    try check(rproc_emu_map_mailbox(slot, machine.mailboxPhysicalAddress), "mapping the mailbox")
    for register in boot.registers {
      try check(rproc_emu_reg_write(slot, register.unicornID, register.value), "boot register \(register.name)")
    }
    rproc_emu_set_pc(slot, boot.pc)
  }

  func dispatch(_ rung: UInt32) {
    guard rung != 0 else { return }
    let events = control.state.withLock { state -> EmulatedCore.Events? in
      if state.events == nil { state.detachedDoorbells |= rung }
      return state.events
    }
    guard let events else { return }
    var bits = rung
    while bits != 0 {
      let id = bits.trailingZeroBitCount
      bits &= bits - 1
      events.guestKicked(id)
    }
  }

  /// Runs the host work queued so far, oldest first (work queued meanwhile runs next time).
  func runWork(_ queue: borrowing Mutex<[@Sendable () -> Void]>) {
    let batch = queue.withLock { queue -> [@Sendable () -> Void] in
      defer { queue.removeAll(keepingCapacity: true) }
      return queue
    }
    guard !batch.isEmpty else { return }
    control.workRuns.add(1, ordering: .relaxed)
    for work in batch { work() }
  }

  func crashed(_ report: CrashReport) {
    let events = control.state.withLock { state -> EmulatedCore.Events? in
      guard case .running = state.phase else { return nil }  // stopping: not a crash
      state.phase = .crashed(report)
      return state.events
    }
    events?.crashed(report)
  }
}
