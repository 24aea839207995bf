import Foundation
import Synchronization

/// The host thread that reads the remote's kicks from the socket and turns each batch into an
/// interrupt of every vring (the byte names none). Linux: a mailbox interrupt handler calling
/// `rproc_vq_interrupt`; OpenAMP: `linux_proc_irq_handler` on libmetal's interrupt thread.
/// The end of the stream is reported once, unless ``stop()`` caused it.
final class OpenAMPKickReader: Sendable {
  private let socket: OpenAMPEventSocket
  private let stopping = Atomic<Bool>(false)
  private let done = DispatchSemaphore(value: 0)

  init(
    socket: OpenAMPEventSocket, name: String, interrupt: @escaping @Sendable () -> Void,
    closed: @escaping @Sendable () -> Void
  ) {
    self.socket = socket
    let thread = Thread { [self] in
      run(interrupt: interrupt, closed: closed)
      done.signal()
    }
    thread.name = name
    thread.start()
  }

  private func run(interrupt: @Sendable () -> Void, closed: @Sendable () -> Void) {
    while true {
      switch socket.wait(timeoutMilliseconds: -1) {
      case .kicks: interrupt()
      case .timedOut, .woken: continue
      case .closed:
        if !stopping.load(ordering: .acquiring) { closed() }
        return
      }
    }
  }

  /// Ends the connection (the remote sees the end of the stream) and waits for the thread.
  func stop() {
    guard !stopping.exchange(true, ordering: .acquiringAndReleasing) else { return }
    socket.shutdown()
    done.wait()
  }
}
