/// How a platform that polls may watch a vring instead of waiting for the remote's kick
/// (the process platform's adaptive doorbell), registered by the vring's driver with its
/// interrupt route. Linux: NAPI on a virtqueue (`virtqueue_disable_cb`, `virtqueue_poll`,
/// `virtqueue_enable_cb`).
///
/// A platform that polls calls ``startPolling`` when it begins, ``hasWork`` in its loop (and
/// the route's handler when it is true), and ``stopPolling`` before it sleeps: when that
/// returns true, work arrived meanwhile and the handler must run instead of sleeping (its
/// kick may never come). Every closure may be called at any time, also after the device
/// stopped (they do nothing then); ``hasWork`` is called from one thread at a time.
public struct VringPoll: Sendable {
  /// True when the remote has published work that was not taken yet: a load or two, no
  /// lock, cheap enough for a spin loop. May be true spuriously.
  public var hasWork: @Sendable () -> Bool
  /// The platform polls from now on: the remote need not kick this vring.
  public var startPolling: @Sendable () -> Void
  /// The platform is about to sleep: ask the remote to kick again, then look once more.
  /// True when work is already waiting.
  public var stopPolling: @Sendable () -> Bool

  public init(
    hasWork: @escaping @Sendable () -> Bool, startPolling: @escaping @Sendable () -> Void,
    stopPolling: @escaping @Sendable () -> Bool
  ) {
    self.hasWork = hasWork
    self.startPolling = startPolling
    self.stopPolling = stopPolling
  }
}

/// A routed vring that can be polled: its interrupt handler and its ``VringPoll``.
public struct PolledVring: Sendable {
  public var notifyID: UInt32
  public var handler: RemoteprocNotifier.InterruptHandler
  public var poll: VringPoll
}
