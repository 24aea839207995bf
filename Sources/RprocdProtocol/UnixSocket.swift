import CSystemShims
import Glibc
import SharedMemory
import Synchronization

/// A UNIX-domain stream socket: rprocd's listening socket or one connection.
///
/// The descriptor closes when the object goes away (or at ``close()``), never while another
/// thread may still use it: to stop a thread blocked in ``read(upTo:)`` or ``send(_:)``,
/// call ``shutdown()``, wait for the thread, then drop the object.
public final class UnixSocket: Sendable {
  /// The descriptor (valid until ``close()``).
  public let descriptor: Int32
  private let closed = Atomic<Bool>(false)

  init(descriptor: Int32) {
    self.descriptor = descriptor
  }

  deinit {
    if !closed.load(ordering: .acquiring) { _ = Glibc.close(descriptor) }
  }

  /// A socket listening at `path`, with `mode` permissions (`chmod`).
  public static func listen(path: String, backlog: Int32 = 16) throws(RprocdError) -> UnixSocket {
    let fd = rproc_unix_socket()
    guard fd >= 0 else { throw RprocdError(.socket, "socket(AF_UNIX)", errno: -fd) }
    let socket = UnixSocket(descriptor: fd)
    do {
      try FileDescriptorIO.bindUnixSocket(fd, path: path)
    } catch {
      throw RprocdError(error.errno == nil ? .malformed : .socket, error.errno == nil ? error.message : "bind(\(path))", errno: error.errno)
    }
    let result = rproc_socket_listen(fd, backlog)
    guard result == 0 else { throw RprocdError(.socket, "listen(\(path))", errno: -result) }
    return socket
  }

  /// Connects to the socket at `path`. A missing socket or one nobody listens on is
  /// ``RprocdError/Code/notRunning``; no permission is ``RprocdError/Code/permissionDenied``.
  public static func connect(path: String) throws(RprocdError) -> UnixSocket {
    let fd = rproc_unix_socket()
    guard fd >= 0 else { throw RprocdError(.socket, "socket(AF_UNIX)", errno: -fd) }
    let socket = UnixSocket(descriptor: fd)
    do {
      try FileDescriptorIO.connectUnixSocket(fd, path: path)
    } catch {
      switch error.errno {
      case ENOENT?, ECONNREFUSED?, ENOTDIR?:
        throw RprocdError(.notRunning, "no rprocd listens at \(path)", errno: error.errno)
      case EACCES?, EPERM?:
        throw RprocdError(.permissionDenied, "no permission to connect to \(path)", errno: error.errno)
      case nil:
        throw RprocdError(.malformed, error.message)
      default:
        throw RprocdError(.socket, "connect(\(path))", errno: error.errno)
      }
    }
    return socket
  }

  /// Waits for a connection, or for `wake` (an eventfd) to become readable: then nil.
  public func accept(wake: Int32) throws(RprocdError) -> UnixSocket? {
    while true {
      let ready = rproc_poll_readable(descriptor, wake, -1)
      guard ready >= 0 else { throw RprocdError(.socket, "poll(listening socket)", errno: -ready) }
      if ready & RPROC_POLL_SECOND != 0 { return nil }
      let fd = rproc_socket_accept(descriptor)
      if fd >= 0 { return UnixSocket(descriptor: fd) }
      // The peer gave up before we accepted, or descriptors ran out for a moment.
      if [ECONNABORTED, EAGAIN, EPROTO].contains(-fd) { continue }
      throw RprocdError(.socket, "accept", errno: -fd)
    }
  }

  /// The connected peer's process, user and group (`SO_PEERCRED`).
  public var peerCredentials: (pid: Int32, uid: UInt32, gid: UInt32)? {
    let pid = rproc_peer_credential(descriptor, RPROC_PEER_PID)
    let uid = rproc_peer_credential(descriptor, RPROC_PEER_UID)
    let gid = rproc_peer_credential(descriptor, RPROC_PEER_GID)
    guard pid >= 0, uid >= 0, gid >= 0 else { return nil }
    return (Int32(truncatingIfNeeded: pid), UInt32(truncatingIfNeeded: uid), UInt32(truncatingIfNeeded: gid))
  }

  /// One read of at most `count` bytes; empty at end of stream (or after ``shutdown()``).
  public func read(upTo count: Int = 65536) throws(RprocdError) -> [UInt8] {
    do {
      return try FileDescriptorIO.read(descriptor, upTo: count)
    } catch where error.errno == ECONNRESET {
      return []
    } catch {
      throw RprocdError(.socket, "read", errno: error.errno)
    }
  }

  /// Sends every byte (blocking while the peer's buffer is full).
  public func send(_ bytes: [UInt8]) throws(RprocdError) {
    var rest = bytes[...]
    while !rest.isEmpty {
      do {
        let sent = try FileDescriptorIO.send(descriptor, rest)
        rest = rest.dropFirst(sent)
      } catch {
        if error.errno == EPIPE || error.errno == ECONNRESET {
          throw RprocdError(.closed, "the peer closed the connection")
        }
        throw RprocdError(.socket, "send", errno: error.errno)
      }
    }
  }

  /// Wakes any thread blocked reading or sending; later reads see end of stream.
  public func shutdown() {
    _ = rproc_socket_shutdown(descriptor)
  }

  /// Closes the descriptor now. Only call it once no other thread uses the socket.
  public func close() {
    guard !closed.exchange(true, ordering: .acquiringAndReleasing) else { return }
    _ = Glibc.close(descriptor)
  }
}
