import CSystemShims
import Foundation
import SharedMemory
import Synchronization

/// One end of the kick connection of OpenAMP's Linux machine: a UNIX stream socket on which
/// each side sends one byte (value 1) to kick the other. The byte carries no vring number; the
/// receiver looks at every vring (OpenAMP: `linux_proc_notify` sends `char dummy = 1` and
/// ignores the id; its interrupt handler reads up to 32 bytes, then
/// `remoteproc_get_notification(rproc, RSC_NOTIFY_ID_ANY)`). Both directions share the one
/// connection; the end of the stream means the peer went away.
///
/// The descriptor is non-blocking: ``ring()`` never waits (a kick that finds the peer's buffer
/// full is dropped, because the peer has kicks to read already), and only ``wait(timeoutMilliseconds:wake:)``
/// sleeps, in `poll`.
public final class OpenAMPEventSocket: Sendable {
  /// The byte OpenAMP sends per kick.
  public static let kickByte: UInt8 = 1

  /// The socket's path (for messages).
  public let path: String
  // Invariant: the descriptor stays open until close(), which callers make only once no
  // thread waits on it (shutdown() first wakes a waiter without freeing the number). ring()
  // and close() hold the lock, so a kick never goes to a number reused by another file.
  private let descriptor: Mutex<Int32>
  private let rawDescriptor: Int32

  init(descriptor: Int32, path: String) {
    _ = rproc_set_nonblocking(descriptor, 1)
    self.descriptor = Mutex(descriptor)
    self.rawDescriptor = descriptor
    self.path = path
  }

  deinit { close() }

  /// Connects to the socket at `path`, retrying every 10 ms while nobody listens there (the
  /// file is missing or refuses) until `timeout` has passed. OpenAMP's client retries for
  /// about 50 s (`event_open`); a zero timeout tries once.
  public static func connect(path: String, timeout: Duration = .zero) async throws(OpenAMPError) -> OpenAMPEventSocket {
    let deadline = ContinuousClock.now.advanced(by: timeout)
    while true {
      let fd = rproc_unix_socket()
      guard fd >= 0 else { throw OpenAMPError(.socket, "socket(AF_UNIX) for \(path)", errno: -fd) }
      do {
        try FileDescriptorIO.connectUnixSocket(fd, path: path)
        return OpenAMPEventSocket(descriptor: fd, path: path)
      } catch {
        _ = Glibc.close(fd)
        let waiting = error.errno == ENOENT || error.errno == ECONNREFUSED
        if waiting, ContinuousClock.now < deadline {
          try? await Task.sleep(for: .milliseconds(10))
          continue
        }
        guard let errno = error.errno else { throw OpenAMPError(.invalidConfiguration, error.message) }
        var message = "cannot connect to the kick socket \(path)"
        if waiting {
          message += timeout > .zero ? " within \(timeout)" : ""
          message += " (is the remote running? OpenAMP's Linux machine listens there once its shared memory is set up, and accepts one host per run)"
        }
        throw OpenAMPError(.socket, message, errno: errno)
      }
    }
  }

  /// Kicks the peer: sends one byte. Never blocks. Returns false when the socket is closed or
  /// the peer is gone (the waiting side then sees the end of the stream).
  @discardableResult
  public func ring() -> Bool {
    descriptor.withLock { fd in
      guard fd >= 0 else { return false }
      do throws(SharedMemoryError) {
        try FileDescriptorIO.send(fd, [Self.kickByte][...])
        return true
      } catch {
        // EAGAIN: the peer's buffer is full of kicks it has not read yet; this one adds nothing.
        return error.errno == EAGAIN || error.errno == EWOULDBLOCK
      }
    }
  }

  /// What ``wait(timeoutMilliseconds:wake:)`` saw.
  public enum Event: Hashable, Sendable {
    /// `count` kick bytes arrived (all of them were taken).
    case kicks(Int)
    /// Nothing arrived in time.
    case timedOut
    /// `wake` became readable.
    case woken
    /// The peer closed the connection (or it broke, or ``shutdown()`` was called).
    case closed
  }

  /// Waits until kicks arrive, `wake` (a descriptor, ignored when negative) becomes readable,
  /// the peer goes away or `timeoutMilliseconds` pass (−1: no limit). Takes every byte waiting.
  public func wait(timeoutMilliseconds: Int32, wake: Int32 = -1) -> Event {
    let fd = rawDescriptor
    let ready = rproc_poll_readable(fd, wake, timeoutMilliseconds)
    if ready < 0 { return .closed }
    if ready & RPROC_POLL_SECOND != 0 { return .woken }
    if ready & RPROC_POLL_FIRST == 0 { return .timedOut }
    var count = 0
    while true {
      do {
        let bytes = try FileDescriptorIO.read(fd, upTo: 256)
        if bytes.isEmpty { return count > 0 ? .kicks(count) : .closed }
        count += bytes.count
        if bytes.count < 256 { return .kicks(count) }
      } catch {
        if error.errno == EAGAIN || error.errno == EWOULDBLOCK { return count > 0 ? .kicks(count) : .timedOut }
        return count > 0 ? .kicks(count) : .closed
      }
    }
  }

  /// Ends the connection both ways without freeing the descriptor: a thread in ``wait(timeoutMilliseconds:wake:)``
  /// returns ``Event/closed``, and the peer sees the end of the stream.
  public func shutdown() {
    descriptor.withLock { fd in
      if fd >= 0 { _ = rproc_socket_shutdown(fd) }
    }
  }

  /// Closes the descriptor. Only once no thread waits on it (``shutdown()`` first).
  public func close() {
    descriptor.withLock { fd in
      if fd >= 0 { _ = Glibc.close(fd) }
      fd = -1
    }
  }
}
