import CProcessShims
import CSystemShims
import Foundation
import HostCPUs
import Remoteproc
import SharedMemory
import Synchronization

/// One firmware process: started by this host (a child) or adopted after a host restart.
/// It is watched through a pidfd by a thread of its own, which reaps it and says how it
/// ended.
final class FirmwareProcess: Sendable {
  let pid: Int32
  /// True when this process started it (then its exit status can be read).
  let isChild: Bool
  private let pidfd: Int32
  private let wake: Int32
  private let ending = Mutex<Ending>(Ending())
  private let monitorDone = DispatchSemaphore(value: 0)

  private struct Ending {
    var status: ExitStatus?
    var monitoring = false
    var closed = false
  }

  private init(pid: Int32, pidfd: Int32, wake: Int32, isChild: Bool) {
    self.pid = pid
    self.pidfd = pidfd
    self.wake = wake
    self.isChild = isChild
  }

  deinit {
    _ = close(pidfd)
    _ = close(wake)
  }

  /// Starts the executable in memfd `image` with `memory` inherited as descriptor 3.
  static func spawn(
    image: Int32, memory: Int32, cpus: [Int], exitsWithHost: Bool, tag: Int
  ) throws(RemoteprocError) -> FirmwareProcess {
    let mask = CPUMask(cpus)
    let pid = rproc_spawn_firmware(
      image, memory, 3, mask.words[0], mask.words[1], mask.words[2], mask.words[3], exitsWithHost ? 1 : 0,
      Int32(truncatingIfNeeded: tag))
    guard pid > 0 else {
      throw RemoteprocError(.platform, "starting the firmware process failed: \(describe(-pid))")
    }
    do {
      return try adopt(pid: pid, isChild: true)
    } catch {
      _ = rproc_kill_and_reap(pid)
      throw error
    }
  }

  /// Watches process `pid` (ours or someone else's).
  static func adopt(pid: Int32, isChild: Bool) throws(RemoteprocError) -> FirmwareProcess {
    let pidfd = rproc_pidfd_open(pid)
    guard pidfd >= 0 else {
      throw RemoteprocError(
        pidfd == -ESRCH ? .invalidState : .platform, "pidfd_open(\(pid)): \(describe(-pidfd))")
    }
    let wake = rproc_wake_create()
    guard wake >= 0 else {
      _ = close(pidfd)
      throw RemoteprocError(.platform, "eventfd: \(describe(-wake))")
    }
    return FirmwareProcess(pid: pid, pidfd: pidfd, wake: wake, isChild: isChild)
  }

  static func describe(_ errno: Int32) -> String {
    "\(FileDescriptorIO.describe(errno: errno)) (errno \(errno))"
  }

  /// How it ended, once it has (and the monitor has seen it).
  var exitStatus: ExitStatus? { ending.withLock { $0.status } }

  /// Starts the thread that waits for the process to end; `ended` runs on it once, unless
  /// ``stopMonitoring()`` was called first.
  func startMonitoring(ended: @escaping @Sendable (ExitStatus) -> Void) {
    ending.withLock { $0.monitoring = true }
    let thread = Thread { [self] in
      monitor(ended)
      monitorDone.signal()
    }
    thread.name = "rproc-process-\(pid)"
    thread.start()
  }

  private func monitor(_ ended: @Sendable (ExitStatus) -> Void) {
    while true {
      let ready = rproc_poll_readable(pidfd, wake, -1)
      if ready < 0 { return }
      if ready & RPROC_POLL_SECOND != 0 { return }  // stopMonitoring
      guard ready & RPROC_POLL_FIRST != 0 else { continue }
      let status: ExitStatus
      if isChild {
        let reaped = rproc_pidfd_reap(pidfd)
        if reaped == 0 { continue }  // readable but not yet reapable: poll again
        status = ExitStatus(reaped: reaped) ?? .unknown
      } else {
        status = .unknown
      }
      ending.withLock { $0.status = status }
      ended(status)
      return
    }
  }

  /// Stops the monitor thread (the process keeps running, if it still does) and waits until
  /// the thread has returned. Safe to call after it returned on its own, and more than once.
  func stopMonitoring() {
    let running = ending.withLock { e -> Bool in
      defer { e.monitoring = false }
      return e.monitoring
    }
    guard running else { return }
    _ = rproc_wake_signal(wake)
    monitorDone.wait()
  }

  /// Sends `signal`; false when the process has already ended.
  @discardableResult
  func signal(_ signal: Int32) -> Bool {
    rproc_pidfd_signal(pidfd, signal) == 0
  }

  /// Waits (without blocking a thread) until the monitor has seen the end, at most `limit`.
  func waitForExit(within limit: Duration) async -> ExitStatus? {
    let clock = ContinuousClock()
    let deadline = clock.now.advanced(by: limit)
    var pause = Duration.microseconds(50)
    while clock.now < deadline {
      if let status = exitStatus { return status }
      try? await Task.sleep(for: pause)
      pause = min(pause * 2, .milliseconds(5))
    }
    return exitStatus
  }
}
