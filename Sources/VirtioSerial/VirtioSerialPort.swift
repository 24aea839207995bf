import SharedMemory
import Synchronization
import Virtio

/// The host side of the remoteproc serial port: a byte stream over two vrings.
/// Linux: `drivers/char/virtio_console.c` for `VIRTIO_ID_RPROC_SERIAL` (11), single port,
/// no features of its own; also usable for a plain console (id 3) without MULTIPORT.
///
/// vring 0 is the *receiveq* (remote → host): the host posts every receive buffer there,
/// writable, and re-posts each after delivering its bytes. vring 1 is the *transmitq*
/// (host → remote): each write fills transmit buffers, offered device-readable. Buffer
/// memory comes from the core: a pool of `receive + transmit` buffers of ``bufferSize``
/// bytes (Linux allocates PAGE_SIZE buffers with `dma_alloc_coherent`).
///
/// Received bytes reach the `receive` closure given at init (on the thread that calls
/// ``handleKick(vring:)``, outside every lock), or, without one, ``input``.
public final class VirtioSerialPort: Sendable {
  /// Wire: `VIRTIO_ID_RPROC_SERIAL`.
  public static let remoteprocSerialID: UInt32 = 11
  /// Wire: `VIRTIO_ID_CONSOLE`.
  public static let consoleID: UInt32 = 3

  /// Bytes per buffer.
  public let bufferSize: Int
  let notify: @Sendable (UInt32) -> Void
  let receive: (@Sendable ([UInt8]) -> Void)?
  let log: @Sendable (String) -> Void
  let state = Mutex(State())
  let waiters = Mutex<[UInt64: CheckedContinuation<Bool, Never>]>([:])
  let nextWaiter = Atomic<UInt64>(0)
  let inputPair = AsyncStream<[UInt8]>.makeStream(bufferingPolicy: .bufferingOldest(1024))
  /// Serializes deliveries (in order); `deliverer` is the delivering thread (pthread_t).
  let delivery = Mutex(())
  let deliverer = Atomic<UInt>(0)
  let deliveryPending = Atomic<Bool>(false)

  struct State: Sendable {
    var receiveQueue: VirtqueueDriver?
    var transmitQueue: VirtqueueDriver?
    var handshake: VirtioDriverHandshake?
    var pool: MemoryRegion?
    var poolAddress: UInt64 = 0
    var receiveCount = 0
    var transmitCount = 0
    var freshTransmit = 0
    var receiveNotifyID: UInt32 = 0
    var transmitNotifyID: UInt32 = 0
    var running = false
    var received: UInt64 = 0
    var sent: UInt64 = 0
    var brokenError: VirtioError?
  }

  /// - Parameters:
  ///   - bufferSize: bytes per buffer (Linux: PAGE_SIZE).
  ///   - notify: kicks the remote for a vring's notify id (never called with a lock held).
  ///   - receive: gets every chunk of received bytes; nil to read from ``input``.
  public init(
    bufferSize: Int = 4096, notify: @escaping @Sendable (UInt32) -> Void,
    receive: (@Sendable ([UInt8]) -> Void)? = nil,
    log: @escaping @Sendable (String) -> Void = { _ in }
  ) {
    self.bufferSize = bufferSize
    self.notify = notify
    self.receive = receive
    self.log = log
  }

  /// Bytes of buffer pool the port needs for vrings of these sizes.
  public static func bufferPoolSize(receiveCount: Int, transmitCount: Int, bufferSize: Int = 4096) -> Int {
    (receiveCount + transmitCount) * bufferSize
  }

  /// Received bytes, in order, when no `receive` closure was given. Finishes on reset.
  public var input: AsyncStream<[UInt8]> { inputPair.stream }

  /// True between ``start(resource:vrings:buffers:notifyIDs:)`` and ``reset()``.
  public var isRunning: Bool { state.withLock { $0.running } }

  /// Bytes received and sent so far.
  public var counters: (received: UInt64, sent: UInt64) {
    state.withLock { ($0.received, $0.sent) }
  }

  /// The protocol violation that broke a vring, if any.
  public var transportError: VirtioError? { state.withLock { $0.brokenError } }

  /// Brings the port up: status ACK → DRIVER → `gfeatures` (EVENT_IDX if offered) → vrings
  /// zeroed and their `da` written → every receive buffer posted → DRIVER_OK → kick.
  /// Linux: `virtcons_probe` + `fill_queue`.
  public func start(
    resource: VirtioDeviceEntry, vrings: [DeviceMemory], buffers: DeviceMemory,
    notifyIDs: [UInt32]? = nil
  ) throws(VirtioError) {
    guard resource.deviceID == Self.remoteprocSerialID || resource.deviceID == Self.consoleID else {
      throw VirtioError(.invalidConfiguration,
                        "vdev id \(resource.deviceID) is neither rproc serial (11) nor console (3)")
    }
    guard resource.vringCount == 2 else {
      throw VirtioError(.invalidConfiguration, "a serial port needs 2 vrings, the vdev has \(resource.vringCount)")
    }
    guard bufferSize >= 1, bufferSize <= 1 << 20 else {
      throw VirtioError(.invalidArgument, "buffer size \(bufferSize)")
    }
    guard !isRunning else { throw VirtioError(.invalidState, "the port is already running") }
    var handshake = VirtioDriverHandshake(resource: resource)
    do throws(VirtioError) {
      try handshake.begin()
      let features = try handshake.negotiate(supported: [.eventIndex, .consoleSize])
      let rx = try resource.vringLayout(0).count
      let tx = try resource.vringLayout(1).count
      let need = Self.bufferPoolSize(receiveCount: rx, transmitCount: tx, bufferSize: bufferSize)
      guard buffers.region.count >= need else {
        throw VirtioError(.invalidConfiguration,
                          "buffer pool of \(buffers.region.count) bytes; \(rx + tx) buffers of "
                            + "\(bufferSize) need \(need)")
      }
      var queues = try handshake.setUpVrings(vrings, notifyIDs: notifyIDs,
                                             callbacksEnabled: [true, false])
      for i in 0..<rx {
        _ = try queues[0].add(address: buffers.deviceAddress + UInt64(i * bufferSize),
                              length: UInt32(bufferSize), isWritable: true, token: UInt32(i))
      }
      let ids = (try resource.vring(0).notifyID, try resource.vring(1).notifyID)
      let (receiveQueue, transmitQueue) = (queues[0], queues[1])
      let size = bufferSize
      let kick = state.withLock { s -> Bool in
        s = State()
        s.receiveQueue = receiveQueue
        s.transmitQueue = transmitQueue
        s.pool = try? buffers.region.slice(at: 0, length: need)
        s.poolAddress = buffers.deviceAddress
        s.receiveCount = rx
        s.transmitCount = tx
        s.receiveNotifyID = ids.0
        s.transmitNotifyID = ids.1
        _ = size
        s.running = true
        return s.receiveQueue!.kickPrepare()
      }
      try handshake.finish()
      state.withLock { $0.handshake = handshake }
      _ = features
      if kick { notify(ids.0) }
    } catch {
      handshake.fail()
      state.withLock { $0 = State() }
      throw error
    }
  }

  /// Stops the port (the remote stopped or crashed): status 0, waiting writers fail.
  public func reset() {
    let handshake = state.withLock { s -> VirtioDriverHandshake? in
      let h = s.handshake
      s = State()
      return h
    }
    var h = handshake
    h?.reset()
    let all = waiters.withLock { w in
      defer { w.removeAll() }
      return Array(w.values)
    }
    for c in all { c.resume(returning: false) }
  }
}
