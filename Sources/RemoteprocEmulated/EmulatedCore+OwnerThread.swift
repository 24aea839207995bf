import CRemoteprocEmulatedShims

// MARK: Single-thread mode

extension EmulatedCore {
  /// True when called on this core's owner thread: inside ``Events/guestKicked`` or
  /// ``Events/crashed``, or in work passed to ``perform(_:)``.
  public var isOwnerThread: Bool { rproc_emu_thread_is_current(slot) != 0 }

  /// Runs `work` on the core's owner thread, between two guest basic blocks or while the
  /// guest idles, and returns at once. Work runs in the order it was queued, with the guest
  /// paused; it must not block for long.
  ///
  /// This is the *single-thread mode* of a core: a host driver whose logic runs on the owner
  /// thread (here, and in the ``Events/guestKicked`` handler, where the remoteproc core
  /// already delivers vring interrupts) talks to the guest without any thread hand-off. A
  /// ``kick(notifyId:)`` made on the owner thread wakes nobody: the guest takes the
  /// interrupt as soon as the handler or the work returns, before its next basic block.
  /// From other threads the same kick costs a cross-thread hand-off (and, when the owner
  /// thread has gone to sleep, a futex wake-up); see `docs/benchmarks.md`.
  ///
  /// Work queued while the core is not running, or still queued when it stops or crashes,
  /// is dropped: the method throws in the first case.
  public func perform(_ work: @escaping @Sendable () -> Void) throws(EmulationError) {
    guard case .running = state else {
      throw EmulationError(.invalidState, "\(machine.name) core is not running: no owner thread to run host work")
    }
    control.work.withLock { $0.append(work) }
    rproc_emu_post_work(slot)
  }

  /// Runs `work` on the core's owner thread once the guest idles in `wait`/`wfi` (at once,
  /// between two checks of the run loop, if it is idling now), and returns at once. The
  /// guest is quiescent while the work runs: it has found nothing to do and asked to be
  /// woken, so a request the work sends reaches it through a kick and an interrupt (what
  /// `rproc bench emulated-kick` times as a kick round trip). Work for idle time runs after
  /// any ``perform(_:)`` work queued before it; a guest that never idles never runs it.
  ///
  /// Work still queued when the core stops or crashes is dropped; the method throws when
  /// the core is not running.
  public func performWhenIdle(_ work: @escaping @Sendable () -> Void) throws(EmulationError) {
    guard case .running = state else {
      throw EmulationError(.invalidState, "\(machine.name) core is not running: no owner thread to run host work")
    }
    control.idleWork.withLock { $0.append(work) }
    rproc_emu_post_idle_work(slot)
  }
}
