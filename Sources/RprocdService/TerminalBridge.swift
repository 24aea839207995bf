import CSystemShims
import Foundation
import Glibc
import PseudoTerminal
import SharedMemory
import Synchronization

/// A pseudo-terminal joined to a byte device of a remote (a serial port, an rpmsg-tty
/// channel): what users type reaches `write`, and ``output(_:)`` shows the device's bytes
/// to whoever has the terminal open (`screen /dev/pts/N`, `picocom`, `cat`).
///
/// Output never blocks the caller (it runs on the rpmsg or serial receive path): when no
/// one reads the terminal and its buffer (about 4 KiB) is full, further bytes are dropped
/// and counted, as a UART's FIFO overflows.
final class TerminalBridge: Sendable {
  let terminal: PseudoTerminal
  let label: String
  private let closed = Atomic<Bool>(false)
  private let dropped = Atomic<Int>(0)
  private let writer: Task<Void, Never>

  /// `/dev/pts/N`.
  var path: String { terminal.slavePath }
  /// Bytes dropped because no one read the terminal.
  var droppedBytes: Int { dropped.load(ordering: .relaxed) }

  /// Opens a terminal whose input goes to `write`, chunk by chunk in order.
  init(label: String, write: @escaping @Sendable ([UInt8]) async -> Void) throws(DaemonError) {
    do {
      terminal = try PseudoTerminal()
    } catch {
      throw DaemonError(.platform, "\(label): cannot open a pseudo-terminal: \(error)")
    }
    let result = rproc_set_nonblocking(terminal.masterDescriptor, 1)
    guard result == 0 else {
      throw DaemonError(.platform, "\(label): fcntl(O_NONBLOCK): \(FileDescriptorIO.describe(errno: -result))")
    }
    self.label = label
    let (input, sink) = AsyncStream.makeStream(of: [UInt8].self, bufferingPolicy: .bufferingOldest(256))
    writer = Task {
      for await chunk in input { await write(chunk) }
    }
    let terminal = self.terminal
    let reader = Thread {
      while let bytes = try? terminal.read(upTo: 4096) { sink.yield(bytes) }
      sink.finish()
    }
    reader.name = "rprocd-tty \(label)"
    reader.start()
  }

  /// Shows `bytes` to the terminal's user, or drops them when its buffer is full.
  func output(_ bytes: [UInt8]) {
    guard !closed.load(ordering: .acquiring), !bytes.isEmpty else { return }
    var rest = bytes[...]
    while !rest.isEmpty {
      guard let written = try? FileDescriptorIO.write(terminal.masterDescriptor, Array(rest)), written > 0 else {
        dropped.add(rest.count, ordering: .relaxed)
        return
      }
      rest = rest.dropFirst(written)
    }
  }

  /// Stops the terminal: its reader ends and its descriptors close once released (a user
  /// who still has it open sees the line hang up).
  func close() {
    guard !closed.exchange(true, ordering: .acquiringAndReleasing) else { return }
    terminal.shutdown()
    writer.cancel()
  }
}
