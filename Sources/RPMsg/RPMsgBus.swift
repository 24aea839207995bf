import Glibc
import SharedMemory
import Synchronization
import Virtio

/// Which side of the vrings this bus plays.
public enum RPMsgRole: Hashable, Sendable {
  /// The virtio driver: allocates nothing itself, but owns the rings and the buffer pool the
  /// core hands it. Linux: `virtio_rpmsg_bus`.
  case host
  /// The virtio device: uses the rings and buffers the host set up. OpenAMP / RPMsg-Lite
  /// on firmware.
  case remote
}

/// An rpmsg bus over one vdev: endpoints, channels, the name service and the two vrings,
/// in either role.
///
/// Lifecycle: make one bus per vdev and keep it; ``startHost(resource:vrings:buffers:)``
/// (or ``startRemote(resource:addressMap:)``) once per boot of the remote,
/// ``handleKick(vring:)`` whenever the peer notifies, ``reset(reason:)`` when the remote
/// stops or crashes. Drivers stay registered across resets, so channels come back when
/// the restarted firmware announces them again.
///
/// Concurrency: the receive path runs on whichever thread calls ``handleKick(vring:)``, one
/// thread at a time, and calls endpoint callbacks synchronously there; a callback may send,
/// create or destroy endpoints and hold buffers. Sends may come from any thread.
/// Locks: `rx` → `endpoints` and `rx` → `tx`; never the other way.
public final class RPMsgBus: Sendable {
  public let role: RPMsgRole
  /// Called with a vring's notify id when the peer must be kicked. Linux: `rproc_ops.kick`.
  let notify: @Sendable (UInt32) -> Void
  /// Called with a line for every dropped input and protocol event.
  let log: @Sendable (String) -> Void
  let features: VirtioFeatures

  /// The transmit side. A `BiasedLock`: no atomic instruction per send while one thread
  /// sends, one compare-and-swap once several do (`Mutex` takes two); sends hold it for
  /// well under a microsecond.
  let tx: BiasedLock<TxState>
  /// The receive side, held by the thread running the receive loop (callbacks included)
  /// and briefly by a release from another thread, a start, reset or destroy. A
  /// `BiasedLock` too: a second thread kicking meanwhile polls until the loop ends.
  let rx: BiasedLock<RxState>
  let endpoints: Mutex<EndpointTable>
  let waiters: Mutex<WaiterList>
  /// Received buffers released inside a callback, recycled when the callback returns.
  let returns: Mutex<[ReturnedBuffer]>
  let returnsCount = Atomic<Int>(0)
  /// The thread running the receive path (pthread_t), 0 when none.
  let dispatcher = Atomic<UInt>(0)
  /// Set when a kick arrives on the dispatching thread itself (from inside a callback).
  let receivePending = Atomic<Bool>(false)
  /// Bumped by every endpoint create/destroy; the receive path caches lookups by it.
  let generation = Atomic<UInt64>(1)
  /// Bumped by every start and reset; buffers and endpoints remember theirs.
  let epochs = Atomic<UInt64>(0)
  /// Counters the hot paths publish with plain stores, readable without their locks (so a
  /// callback may read them).
  let sentCount = Atomic<UInt64>(0)
  let receivedCount = Atomic<UInt64>(0)
  /// Drop counters (rare, so a lock of their own).
  let drops = Mutex(RPMsgCounters())
  /// The first protocol violation on either vring.
  let brokenErrors = Mutex<RPMsgError?>(nil)
  /// Why the bus was last reset, for the errors of the writers it woke.
  let lastResetReason = Mutex<String>("")
  /// A reset asked for from inside a callback, done when the receive loop ends.
  let deferredReset = Mutex<RPMsgError?>(nil)
  let resetRequested = Atomic<Bool>(false)
  /// The receive and transmit vrings' notify ids, for ``handleKick(notifyID:)``.
  let receiveNotifyID = Atomic<UInt32>(.max)
  let transmitNotifyID = Atomic<UInt32>(.max)
  /// The handshake and per-boot facts, under `control`.
  let control = Mutex(Control())
  /// Channel observers and the traffic tap.
  let observers = RPMsgBusObservers()
  /// Whether a tap is set: the only thing the send and receive paths read of it.
  let tapping = Atomic<Bool>(false)

  struct ReturnedBuffer: Sendable {
    var slot: BufferSlot
    var epoch: UInt64
  }

  /// - Parameters:
  ///   - role: host (virtio driver) or remote (virtio device).
  ///   - features: the features this side supports: the host accepts the offered ones among
  ///     them (`.rpmsgNameService`, `.eventIndex`); the remote's offer is its vdev entry's
  ///     `dfeatures`, so this is ignored there.
  ///   - notify: kicks the peer for the vring with that notify id (never called with a lock
  ///     held).
  ///   - log: receives a line per drop or protocol event (default: discard).
  public init(
    role: RPMsgRole, features: VirtioFeatures = [.rpmsgNameService, .eventIndex],
    notify: @escaping @Sendable (UInt32) -> Void,
    log: @escaping @Sendable (String) -> Void = { _ in }
  ) {
    self.role = role
    self.features = features
    self.notify = notify
    self.log = log
    tx = BiasedLock(TxState())
    rx = BiasedLock(RxState())
    endpoints = Mutex(EndpointTable())
    waiters = Mutex(WaiterList())
    var r: [ReturnedBuffer] = []
    r.reserveCapacity(RPMsgWire.maximumBufferCount)
    returns = Mutex(r)
  }

  /// The largest payload one message carries. Linux: `rpmsg_get_mtu`.
  public var mtu: Int { RPMsgWire.mtu }

  /// True between a successful start and the next reset.
  public var isRunning: Bool { tx.withLock { $0.running } }

  /// True when the name service was negotiated (`VIRTIO_RPMSG_F_NS`).
  public var hasNameService: Bool { tx.withLock { $0.nameService } }

  /// The features in force since the last start.
  public var negotiatedFeatures: VirtioFeatures { control.withLock { $0.features } }

  /// What the bus sent, received and dropped so far (across resets).
  public var counters: RPMsgCounters {
    var c = drops.withLock { $0 }
    c.sent = sentCount.load(ordering: .relaxed)
    c.received = receivedCount.load(ordering: .relaxed)
    c.droppedBadBuffer += tx.withLock { $0.remote?.unusable ?? 0 }
    return c
  }

  /// The error that broke a vring in the current session (since the last start), if the
  /// peer broke the protocol.
  public var transportError: RPMsgError? { brokenErrors.withLock { $0 } }

  static var currentThread: UInt { UInt(pthread_self()) }

  /// True when called from inside a receive callback of this bus.
  var onDispatcher: Bool { dispatcher.load(ordering: .acquiring) == Self.currentThread }
}
