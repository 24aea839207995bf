import CSystemShims
import Foundation
import Glibc
import SharedMemory
import Synchronization

/// Serves a ``SysfsTree`` at a directory through FUSE, speaking the kernel protocol on
/// `/dev/fuse` directly (no libfuse), so that users read and write it with `cat` and
/// `echo` as they would `/sys/class/remoteproc/remoteproc0`.
///
/// ```swift
/// let filesystem = try SysfsFilesystem.mount(tree, at: "/run/rprocd")
/// …
/// await filesystem.unmount()
/// ```
///
/// Mounting needs `CAP_SYS_ADMIN` (root). The mount uses
/// `fd=N,rootmode=40000,user_id=U,group_id=G,allow_other,default_permissions`: everyone may
/// look, and the kernel checks the files' permission bits; files report a size of 4096,
/// like sysfs, and are opened with `FOPEN_DIRECT_IO` so reads return the real content.
///
/// One thread reads requests; the tree's bookkeeping (LOOKUP, GETATTR, READDIR, …) is
/// answered on it at once, while each `show` and `store` runs in its own task, so a slow
/// closure holds up only its own caller. A user interrupted or killed mid-request (FUSE
/// INTERRUPT) cancels that task; a reply the kernel no longer wants is dropped.
///
/// The tree is served until ``unmount()``; call it before the process exits, or the
/// directory stays a dead mount ("Transport endpoint is not connected") until someone runs
/// `umount`. A single `write(2)` larger than 64 KiB (`max_write`) reaches `store` in
/// pieces; sysfs attributes take at most a page, so nothing here writes that much.
public final class SysfsFilesystem: Sendable {
  /// Where the tree is mounted.
  public let mountPoint: String
  /// The tree being served.
  public let tree: SysfsTree
  let owner: (uid: UInt32, gid: UInt32)

  // The /dev/fuse descriptor; nil once stopped. Replies are written under the lock, so a
  // late reply can never go to a descriptor number that was closed and reused.
  let device: Mutex<Int32?>
  private let deviceDescriptor: Int32
  // An eventfd that wakes the reader thread to stop. Closed in deinit, after the reader.
  private let wake: Int32
  let state = Mutex(ServerState())
  private let stopping = Atomic<Bool>(false)

  /// Open files and directories, requests in flight, and the reader thread's fate.
  struct ServerState {
    struct OpenFile {
      var node: UInt64
      var file: SysfsFile
      /// What the last `show` returned, served to reads at later offsets.
      var content: [UInt8]?
    }
    struct DirectoryEntry {
      var name: String
      var node: UInt64
      var isDirectory: Bool
    }
    var nextHandle: UInt64 = 1
    var files: [UInt64: OpenFile] = [:]
    var directories: [UInt64: [DirectoryEntry]] = [:]
    /// Tasks running a `show` or `store`, by request id, for FUSE INTERRUPT.
    var inFlight: [UInt64: Task<Void, Never>] = [:]
    var readerFinished = false
    var finishWaiters: [CheckedContinuation<Void, Never>] = []

    mutating func newHandle() -> UInt64 {
      defer { nextHandle += 1 }
      return nextHandle
    }
  }

  private init(tree: SysfsTree, mountPoint: String, device: Int32, wake: Int32) {
    self.tree = tree
    self.mountPoint = mountPoint
    self.owner = (geteuid(), getegid())
    self.device = Mutex(device)
    self.deviceDescriptor = device
    self.wake = wake
  }

  deinit {
    _ = close(wake)
  }

  /// Mounts `tree` at the directory `mountPoint` and starts serving it.
  /// - Parameter name: the source shown in `/proc/mounts` (`name on DIR type fuse`).
  public static func mount(
    _ tree: SysfsTree, at mountPoint: String, name: String = "sysfs"
  ) throws(SysfsFilesystemError) -> SysfsFilesystem {
    guard tree.isServed.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged else {
      throw SysfsFilesystemError(.busy, "the tree is already mounted; unmount it first")
    }
    var descriptors: [Int32] = []
    do throws(SysfsFilesystemError) {
      let device = try systemCall("open /dev/fuse") { () throws(SharedMemoryError) in
        try FileDescriptorIO.open("/dev/fuse", flags: O_RDWR | O_CLOEXEC)
      }
      descriptors.append(device)
      let wake = rproc_wake_create()
      guard wake >= 0 else { throw SysfsFilesystemError(.systemCall, "eventfd", errno: -wake) }
      descriptors.append(wake)
      let filesystem = SysfsFilesystem(tree: tree, mountPoint: mountPoint, device: device, wake: wake)
      let options =
        "fd=\(device),rootmode=40000,user_id=\(filesystem.owner.uid),group_id=\(filesystem.owner.gid),allow_other,default_permissions"
      try systemCall("mount \(mountPoint)") { () throws(SharedMemoryError) in
        try FileDescriptorIO.mount(
          source: name, target: mountPoint, type: "fuse", flags: UInt(MS_NOSUID | MS_NODEV), options: options)
      }
      let reader = Thread { filesystem.serve() }
      reader.name = "fuse \(mountPoint)"
      reader.start()
      return filesystem
    } catch {
      for descriptor in descriptors { _ = close(descriptor) }
      tree.isServed.store(false, ordering: .releasing)
      throw error
    }
  }

  /// Unmounts (lazily: `umount2(MNT_DETACH)`), stops the reader, and closes `/dev/fuse`,
  /// which aborts the connection for anyone still inside. Requests still running are
  /// cancelled and their replies dropped. Calling it again does nothing.
  public func unmount() async {
    if !stopping.exchange(true, ordering: .acquiringAndReleasing) {
      _ = try? FileDescriptorIO.unmount(mountPoint, flags: 2)  // MNT_DETACH
      _ = rproc_wake_signal(wake)
    }
    await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
      let finished = state.withLock { state in
        if !state.readerFinished { state.finishWaiters.append(continuation) }
        return state.readerFinished
      }
      if finished { continuation.resume() }
    }
    let wasOpen = device.withLock { device in
      defer { device = nil }
      guard let descriptor = device else { return false }
      _ = close(descriptor)
      return true
    }
    guard wasOpen else { return }
    let tasks = state.withLock { state in
      defer {
        state.inFlight = [:]
        state.files = [:]
        state.directories = [:]
      }
      return Array(state.inFlight.values)
    }
    for task in tasks { task.cancel() }
    tree.table.withLock { $0.forgetAll() }
    tree.isServed.store(false, ordering: .releasing)
  }

  /// The reader thread: one request per `read(2)` until stopped or the kernel hangs up.
  private func serve() {
    defer {
      let waiters = state.withLock { state in
        state.readerFinished = true
        defer { state.finishWaiters = [] }
        return state.finishWaiters
      }
      for waiter in waiters { waiter.resume() }
    }
    while true {
      let ready = rproc_poll_readable(deviceDescriptor, wake, -1)
      guard ready > 0, ready & RPROC_POLL_SECOND == 0 else { return }
      let bytes: [UInt8]
      do {
        bytes = try FileDescriptorIO.read(deviceDescriptor, upTo: FUSE.readBufferSize)
      } catch where [ENOENT, EAGAIN, EINTR].contains(error.errno) {
        continue  // the request was interrupted before we read it
      } catch {
        return  // ENODEV: unmounted or aborted
      }
      guard !bytes.isEmpty else { return }
      handle(bytes)
    }
  }

  /// Writes one reply. Failures are dropped: `ENOENT` means the kernel gave up on the
  /// request (its caller was interrupted or killed), and after ``unmount()`` there is no
  /// one to reply to.
  func send(_ message: [UInt8]) {
    device.withLock { device in
      guard let descriptor = device else { return }
      _ = try? FileDescriptorIO.write(descriptor, message)
    }
  }

  private static func systemCall<T>(
    _ what: String, _ call: () throws(SharedMemoryError) -> T
  ) throws(SysfsFilesystemError) -> T {
    do {
      return try call()
    } catch {
      throw SysfsFilesystemError(.systemCall, "\(what): \(error.message)", errno: error.errno)
    }
  }
}
