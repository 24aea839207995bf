import CSystemShims
import Glibc
import SharedMemory
import Synchronization

/// A pseudo-terminal pair: the daemon keeps the master, and users open ``slavePath``
/// (`/dev/pts/N`) with `screen`, `picocom` or `cat`, as they would a board's serial port.
///
/// The line is put in raw mode (Linux `cfmakeraw`: no echo, no line editing, no CR/LF
/// translation, no signal characters), so bytes pass unchanged in both directions; a
/// terminal program may change the mode again once it opens the slave.
///
/// The pair keeps a descriptor of its own slave open, so that users may come and go
/// without the master seeing end of file or `EIO` (a Linux master reads `EIO` once the last
/// slave descriptor closes). Bytes written to the master while no user has the slave open
/// wait in the terminal's input buffer, as they would in a UART's FIFO; when it is full
/// (about 4 KiB on Linux), ``write(_:)`` blocks.
///
/// Descriptors are closed when the object goes away; ``shutdown()`` wakes a blocked
/// ``read(upTo:)`` first.
public final class PseudoTerminal: Sendable {
  /// The master descriptor (`/dev/ptmx`).
  public let masterDescriptor: Int32
  /// N in `/dev/pts/N`.
  public let number: Int
  private let slaveDescriptor: Int32
  // Written once to wake readers; read by nobody: its readability is the shutdown flag.
  private let wakeDescriptor: Int32
  private let isShutDown = Atomic<Bool>(false)

  /// The slave's path, `/dev/pts/N`: what a user opens.
  public var slavePath: String { "/dev/pts/\(number)" }

  /// Opens a new pair. Linux: `posix_openpt`, `grantpt`, `unlockpt`, `ioctl(TIOCGPTN)`.
  /// - Parameter raw: put the line in raw mode (the default; see the type's documentation).
  public init(raw: Bool = true) throws(PseudoTerminalError) {
    let master = rproc_openpty()
    guard master >= 0 else {
      throw PseudoTerminalError(.systemCall, "posix_openpt", errno: -master)
    }
    let number = rproc_ptsnumber(master)
    guard number >= 0 else {
      _ = close(master)
      throw PseudoTerminalError(.systemCall, "ioctl(TIOCGPTN) on the new master", errno: -number)
    }
    let slave: Int32
    do {
      slave = try FileDescriptorIO.open("/dev/pts/\(number)", flags: O_RDWR | O_NOCTTY | O_CLOEXEC)
    } catch {
      _ = close(master)
      throw PseudoTerminalError(.systemCall, "open(/dev/pts/\(number))", errno: error.errno)
    }
    let wake = rproc_wake_create()
    guard wake >= 0 else {
      _ = close(slave)
      _ = close(master)
      throw PseudoTerminalError(.systemCall, "eventfd", errno: -wake)
    }
    self.masterDescriptor = master
    self.number = Int(number)
    self.slaveDescriptor = slave
    self.wakeDescriptor = wake
    if raw { try setRawMode() }
  }

  deinit {
    _ = close(wakeDescriptor)
    _ = close(slaveDescriptor)
    _ = close(masterDescriptor)
  }

  /// Puts the line in raw mode. Linux: `tcsetattr` with `cfmakeraw`, `VMIN` 1, `VTIME` 0
  /// (termios calls on a master act on its slave).
  public func setRawMode() throws(PseudoTerminalError) {
    let result = rproc_make_raw(masterDescriptor)
    guard result == 0 else {
      throw PseudoTerminalError(.systemCall, "tcsetattr(\(slavePath), raw)", errno: -result)
    }
  }

  /// Whether the line is in raw mode now (a user's program may have changed it).
  public var isRaw: Bool {
    get throws(PseudoTerminalError) {
      let result = rproc_is_raw(masterDescriptor)
      guard result >= 0 else {
        throw PseudoTerminalError(.systemCall, "tcgetattr(\(slavePath))", errno: -result)
      }
      return result == 1
    }
  }

  /// Waits for bytes a user wrote to the slave and returns up to `count` of them.
  /// Throws ``PseudoTerminalError/Code/closed`` once ``shutdown()`` was called.
  public func read(upTo count: Int = 4096) throws(PseudoTerminalError) -> [UInt8] {
    while true {
      let ready = rproc_poll_readable(masterDescriptor, wakeDescriptor, -1)
      guard ready >= 0 else {
        throw PseudoTerminalError(.systemCall, "poll(\(slavePath) master)", errno: -ready)
      }
      if ready & RPROC_POLL_SECOND != 0 || isShutDown.load(ordering: .acquiring) {
        throw PseudoTerminalError(.closed, "\(slavePath) was shut down")
      }
      do {
        let bytes = try FileDescriptorIO.read(masterDescriptor, upTo: count)
        if !bytes.isEmpty { return bytes }
      } catch where error.errno == EAGAIN {
        continue
      } catch {
        throw PseudoTerminalError(.systemCall, "read(\(slavePath) master)", errno: error.errno)
      }
    }
  }

  /// Whether bytes from the slave are waiting, without blocking.
  public var hasInput: Bool {
    rproc_poll_readable(masterDescriptor, -1, 0) & RPROC_POLL_FIRST != 0
  }

  /// Sends `bytes` to whoever reads the slave.
  public func write(_ bytes: [UInt8]) throws(PseudoTerminalError) {
    guard !isShutDown.load(ordering: .acquiring) else {
      throw PseudoTerminalError(.closed, "\(slavePath) was shut down")
    }
    do {
      try FileDescriptorIO.writeAll(masterDescriptor, bytes)
    } catch {
      throw PseudoTerminalError(.systemCall, "write(\(slavePath) master)", errno: error.errno)
    }
  }

  /// Stops the terminal: a blocked or later ``read(upTo:)`` and later writes throw
  /// ``PseudoTerminalError/Code/closed``. The descriptors close when the object goes away.
  public func shutdown() {
    guard !isShutDown.exchange(true, ordering: .acquiringAndReleasing) else { return }
    _ = rproc_wake_signal(wakeDescriptor)
  }
}
