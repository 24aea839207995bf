import Firmware
import Glibc
import Remoteproc
import SharedMemory
import Synchronization

/// The host side of OpenAMP's Linux machine: a remote processor that is a Linux process
/// started by someone else (OpenAMP's `rpmsg-echo`, or ``OpenAMPRemote``), which publishes its
/// resource table in a shared-memory file and takes kicks on a UNIX socket. This host is the
/// virtio driver; the remote is the device (OpenAMP: `VIRTIO_DEV_DEVICE`, formerly
/// `RPMSG_REMOTE`). Linux: a platform driver whose `rproc_ops.attach` adopts a remote booted
/// by someone else, as for a core started by a bootloader.
///
/// The processor starts `detached`; `boot()` attaches (Linux `rproc_attach`):
///
/// 1. ``prepare()`` connects to ``OpenAMPConfiguration/socketPath`` (so the remote is there and
///    has written its table) and maps ``OpenAMPConfiguration/sharedMemoryPath``;
/// 2. ``loadedResourceTable()`` finds the table at ``OpenAMPConfiguration/tableOffset`` and
///    checks it; the core adopts its vrings where they are and takes the rpmsg buffers from
///    the window ``OpenAMPConfiguration/bufferPoolOffset`` (named `vdevNbuffer`, as the core
///    asks for them);
/// 3. ``attach(notifier:)`` starts the thread that turns the remote's bytes into interrupts of
///    every vring; the core's rpmsg driver then runs the virtio handshake in the live table,
///    and each of its kicks is one byte on the socket.
///
/// The end of the socket's stream is a crash of the processor (`fatal error`, naming the
/// socket). The remote cannot be started, stopped or reloaded from here: ``stop()`` and
/// ``detach()`` only let go of it (the core resets the devices first), and recovery after a
/// crash fails with "attached, not booted" and leaves the processor offline.
public final class OpenAMPPlatform: RemoteProcessorPlatform {
  public let configuration: OpenAMPConfiguration
  /// How long ``prepare()`` keeps trying to connect while nobody listens yet.
  public let connectTimeout: Duration
  let state = Mutex(State())

  struct State {
    var mapping: SharedMapping?
    var memory = PlatformMemory([])
    var socket: OpenAMPEventSocket?
    var reader: OpenAMPKickReader?
  }

  /// Checks the configuration; nothing is opened until the processor attaches.
  public init(configuration: OpenAMPConfiguration = .init(), connectTimeout: Duration = .zero) throws(RemoteprocError) {
    do { try configuration.validate() } catch { throw RemoteprocError(.invalidArgument, error.message) }
    self.configuration = configuration
    self.connectTimeout = connectTimeout
  }

  public var platformName: String { "openamp-linux" }
  /// The remote is started by someone else: the processor starts `detached`.
  public var isRunningAtRegistration: Bool { true }
  /// Both processes of the Linux machine run on this host.
  public var byteOrder: ByteOrder { .host }

  /// While attached: the whole file (not an allocation pool: everything in it is placed by
  /// the remote's table or the configuration) and the rpmsg buffer window.
  public var memory: PlatformMemory { state.withLock { $0.memory } }

  /// The remote's memory, while attached.
  public var sharedMemory: MemoryRegion? { state.withLock { $0.mapping?.region } }

  /// Refused: an OpenAMP Linux-machine remote is started by someone else.
  public func start(bootAddress: UInt64, notifier: RemoteprocNotifier) async throws(RemoteprocError) {
    throw RemoteprocError(
      .unsupported,
      "an OpenAMP Linux-machine remote is started by someone else (run it, then attach: boot a detached processor)")
  }

  /// Connects to the kick socket, then maps the shared-memory file.
  public func prepare() async throws(RemoteprocError) {
    let socket: OpenAMPEventSocket
    do {
      socket = try await OpenAMPEventSocket.connect(path: configuration.socketPath, timeout: connectTimeout)
    } catch {
      throw RemoteprocError(.platform, error.description)
    }
    let path = configuration.sharedMemoryPath
    let mapping: SharedMapping
    do {
      mapping = try SharedMapping.file(path: path, count: configuration.sharedMemorySize)
    } catch {
      socket.close()
      let reason = error.errno.map { FileDescriptorIO.describe(errno: $0) } ?? error.message
      throw RemoteprocError(error.errno == ENOENT ? .notFound : .platform, "the OpenAMP shared memory \(path): \(reason)")
    }
    let whole = MemoryWindow(
      name: lastComponent(path), deviceAddress: configuration.deviceAddressBase, region: mapping.region,
      isAllocationPool: false)
    state.withLock {
      $0.mapping = mapping
      $0.socket = socket
      $0.memory = PlatformMemory([whole])
    }
  }

  /// Closes the socket and unmaps the file.
  public func unprepare() async {
    let (reader, socket) = state.withLock { s in
      defer { s = State() }
      return (s.reader, s.socket)
    }
    reader?.stop()
    socket?.close()
  }

  /// Starts turning the remote's kicks into interrupts; the end of the stream is a crash.
  public func attach(notifier: RemoteprocNotifier) async throws(RemoteprocError) {
    let path = configuration.socketPath
    try state.withLock { (s) throws(RemoteprocError) in
      guard let socket = s.socket, s.reader == nil else {
        throw RemoteprocError(.invalidState, "openamp: attach before prepare (no connection to \(path))")
      }
      s.reader = OpenAMPKickReader(
        socket: socket, name: "rproc-openamp-kicks", interrupt: { notifier.interruptAll() },
        closed: {
          notifier.reportCrash(
            .fatalError,
            details: "the OpenAMP remote closed its kick socket \(path) (it exited, crashed or let go of this host)")
        })
    }
  }

  /// Lets go of the remote (the core reset its devices and put its table back): one last
  /// kick so it looks, then the connection ends.
  public func detach() async throws(RemoteprocError) {
    let (reader, socket) = takeConnection()
    socket?.ring()
    reader?.stop()
    socket?.close()
  }

  /// Lets go of the remote: it cannot be stopped from here (it keeps running; OpenAMP's own
  /// remote sees the socket's end of stream and nothing else).
  public func stop() async throws(RemoteprocError) {
    let (reader, socket) = takeConnection()
    reader?.stop()
    socket?.close()
  }

  private func takeConnection() -> (OpenAMPKickReader?, OpenAMPEventSocket?) {
    state.withLock { s in
      defer {
        s.reader = nil
        s.socket = nil
      }
      return (s.reader, s.socket)
    }
  }

  /// One byte on the socket, whatever the vring (OpenAMP's `linux_proc_notify`).
  public func kick(notifyID: UInt32) {
    state.withLock { $0.socket }?.ring()
  }
}

func lastComponent(_ path: String) -> String {
  path.split(separator: "/").last.map(String.init) ?? path
}
