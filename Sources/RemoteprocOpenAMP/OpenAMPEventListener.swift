import CSystemShims
import Foundation
import SharedMemory
import Synchronization

/// The listening end of the kick socket, where a remote of OpenAMP's Linux machine waits for
/// its host (OpenAMP: `sk_unix_server`, the `unixs:` prefix). Unlike OpenAMP's, which accepts
/// one host and closes, it stays open: when a host goes, the next one may connect.
///
/// ``wakeUp()`` makes ``accept(timeoutMilliseconds:)``, and every wait given
/// ``wakeDescriptor``, return at once, for good: it is how a remote is stopped.
public final class OpenAMPEventListener: Sendable {
  /// The socket's path.
  public let path: String
  // Invariants: `descriptor` (the listening socket) and `wakeDescriptor` (an eventfd) stay
  // open until close(), which runs once, after every waiter has returned.
  private let descriptor: Int32
  /// An eventfd that becomes readable, and stays so, at ``wakeUp()``.
  public let wakeDescriptor: Int32
  private let closed = Atomic<Bool>(false)

  private init(descriptor: Int32, wake: Int32, path: String) {
    self.descriptor = descriptor
    self.wakeDescriptor = wake
    self.path = path
  }

  deinit { close() }

  /// Listens at `path`. A socket file left there by an earlier run is removed first, as
  /// OpenAMP's `sk_unix_server` does (`unlink` before `bind`); any other kind of file is left
  /// alone and refused.
  public static func listen(path: String) throws(OpenAMPError) -> OpenAMPEventListener {
    if let type = (try? FileManager.default.attributesOfItem(atPath: path))?[.type] as? FileAttributeType {
      guard type == .typeSocket else {
        throw OpenAMPError(.socket, "\(path) exists and is not a socket; refusing to replace it")
      }
      try? FileManager.default.removeItem(atPath: path)
    }
    let fd = rproc_unix_socket()
    guard fd >= 0 else { throw OpenAMPError(.socket, "socket(AF_UNIX) for \(path)", errno: -fd) }
    do {
      try FileDescriptorIO.bindUnixSocket(fd, path: path)
    } catch {
      _ = Glibc.close(fd)
      throw OpenAMPError(error.errno == nil ? .invalidConfiguration : .socket, "cannot listen at \(path) (bind)", errno: error.errno)
    }
    let listened = rproc_socket_listen(fd, 5)
    let wake = rproc_wake_create()
    guard listened == 0, wake >= 0 else {
      _ = Glibc.close(fd)
      if wake >= 0 { _ = Glibc.close(wake) }
      try? FileManager.default.removeItem(atPath: path)
      throw OpenAMPError(.socket, "cannot listen at \(path)", errno: listened < 0 ? -listened : -wake)
    }
    return OpenAMPEventListener(descriptor: fd, wake: wake, path: path)
  }

  /// Waits for a host to connect. Nil when ``wakeUp()`` was called or `timeoutMilliseconds`
  /// passed (−1: no limit).
  public func accept(timeoutMilliseconds: Int32 = -1) throws(OpenAMPError) -> OpenAMPEventSocket? {
    while true {
      let ready = rproc_poll_readable(descriptor, wakeDescriptor, timeoutMilliseconds)
      guard ready >= 0 else { throw OpenAMPError(.socket, "poll(\(path))", errno: -ready) }
      if ready & RPROC_POLL_SECOND != 0 || ready == 0 { return nil }
      let fd = rproc_socket_accept(descriptor)
      if fd >= 0 { return OpenAMPEventSocket(descriptor: fd, path: path) }
      // The peer gave up before we accepted, or descriptors ran out for a moment.
      if [ECONNABORTED, EAGAIN, EPROTO].contains(-fd) { continue }
      throw OpenAMPError(.socket, "accept(\(path))", errno: -fd)
    }
  }

  /// Makes every wait on ``wakeDescriptor`` return now and from now on.
  public func wakeUp() {
    _ = rproc_wake_signal(wakeDescriptor)
  }

  /// Stops listening and removes the socket file. Only once no thread waits on it.
  public func close() {
    guard !closed.exchange(true, ordering: .acquiringAndReleasing) else { return }
    _ = Glibc.close(descriptor)
    _ = Glibc.close(wakeDescriptor)
    try? FileManager.default.removeItem(atPath: path)
  }
}
