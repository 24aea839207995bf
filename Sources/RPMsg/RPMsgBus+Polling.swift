import SharedMemory
import Synchronization
import Virtio

/// Host: a platform that polls instead of sleeping (the process platform's adaptive
/// doorbell) watches the receive vring's used index itself, so that the remote need not ring
/// the doorbell for each message and the host learns of a message from the line that
/// carries it. Linux: NAPI on a virtqueue (`virtqueue_disable_cb`, `virtqueue_poll`,
/// `virtqueue_enable_cb`).
///
/// The protocol: ``startPolling()`` parks `used_event` (EVENT_IDX) or sets
/// `VRING_AVAIL_F_NO_INTERRUPT`, and receive batches end without asking for an interrupt;
/// the poller calls ``ReceiveWatch/hasWork()`` in its loop and ``handleKick(vring:)`` when it
/// is true; before it sleeps it calls ``stopPolling()``, which asks for interrupts again,
/// issues a full fence and looks at `used.idx` once more, so a message published meanwhile
/// is either seen there or kicked (virtio's "enable, then check").
extension RPMsgBus {
  /// A lock-free look at the host's receive vring for one session.
  public struct ReceiveWatch: Sendable {
    @usableFromInline let bus: RPMsgBus
    @usableFromInline let view: SplitRingView

    /// True when the remote published used buffers past those the last receive batch took
    /// (one load of `used.idx`, one of a host-private word): cheap enough for a spin loop.
    /// May be true spuriously (a batch is running); never false while buffers wait after a
    /// batch ended.
    @inlinable @inline(__always)
    public func hasWork() -> Bool {
      view.loadUsedIndex() != bus.receivedIndex.load(ordering: .acquiring)
    }
  }

  /// Host: the receive vring's watch for the running session, nil when not running.
  public func receiveWatch() -> ReceiveWatch? {
    guard role == .host else { return nil }
    return rx.withLock { s in
      guard s.running, let host = s.host else { return nil }
      return ReceiveWatch(bus: self, view: host.queue.ringView)
    }
  }

  /// Host: a poller watches the receive vring from now on; the remote need not kick it.
  public func startPolling() {
    guard role == .host else { return }
    rx.withLock { s in
      guard s.running, s.host != nil else { return }
      s.polled = true
      s.host!.queue.disableCallbacks()
    }
  }

  /// Host: the poller is about to sleep: asks the remote to kick the receive vring again.
  /// Returns true when used buffers are already waiting (run ``handleKick(vring:)`` instead
  /// of sleeping: their kick may never come).
  public func stopPolling() -> Bool {
    guard role == .host else { return false }
    let (work, kick) = rx.withLock { s -> (Bool, UInt32?) in
      guard s.running, s.host != nil else { return (false, nil) }
      s.polled = false
      s.host!.queue.publishAvailable()
      let kick = s.host!.queue.kickPrepare()
      return (!s.host!.queue.enableCallbacks(), kick ? s.notifyID : nil)
    }
    if let kick { notify(kick) }
    return work
  }
}
