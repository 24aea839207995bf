import Foundation
import Remoteproc
import RemoteprocNative
import Synchronization

/// The host thread that waits on the firmware's doorbell and turns its kicks into vring
/// interrupts (Linux: the mailbox interrupt handler calling `rproc_vq_interrupt`), and that
/// watches the firmware's heartbeat when a watchdog is set.
final class DoorbellReceiver: Sendable {
  private let control: NativeControlPage
  private let mode: DoorbellMode
  private let watchdog: Duration?
  private let stopping = Atomic<Bool>(false)
  private let done = DispatchSemaphore(value: 0)

  /// Starts the thread. `interrupt` gets each kick's notify id (nil: "any vring");
  /// `hung` is called once when the heartbeat stood still for the watchdog period.
  init(
    control: NativeControlPage, mode: DoorbellMode, watchdog: Duration?, name: String,
    interrupt: @escaping @Sendable (UInt32?) -> Void, hung: @escaping @Sendable (Duration) -> Void
  ) {
    self.control = control
    self.mode = mode
    self.watchdog = watchdog
    let thread = Thread { [self] in
      run(interrupt: interrupt, hung: hung)
      done.signal()
    }
    thread.name = name
    thread.start()
  }

  private func run(interrupt: @Sendable (UInt32?) -> Void, hung: @Sendable (Duration) -> Void) {
    let doorbell = control.toHost
    let clock = ContinuousClock()
    // Wake up at least twice per watchdog period to look at the heartbeat.
    let timeout: Int64 = watchdog.map { Int64($0.components.seconds) * 500_000_000 + $0.components.attoseconds / 2_000_000_000 } ?? -1
    var lastBeat = (try? control.heartbeat) ?? 0
    var lastChange = clock.now
    var reportedHang = false
    while !stopping.load(ordering: .acquiring) {
      let bits: UInt32
      do { bits = try doorbell.wait(mode: mode, timeoutNanoseconds: timeout) } catch { return }
      if stopping.load(ordering: .acquiring) { return }
      if bits != 0 {
        var rest = bits
        while rest != 0 {
          let bit = UInt32(rest.trailingZeroBitCount)
          rest &= rest - 1
          interrupt(bit == NativeLayout.kickAnyBit ? nil : bit)
        }
      }
      if let watchdog, !reportedHang {
        let beat = (try? control.heartbeat) ?? lastBeat
        let now = clock.now
        if beat != lastBeat {
          lastBeat = beat
          lastChange = now
        } else if now - lastChange > watchdog {
          reportedHang = true
          hung(now - lastChange)
        }
      }
    }
  }

  /// Stops the thread and waits until it has returned.
  func stop() {
    guard !stopping.exchange(true, ordering: .acquiringAndReleasing) else { return }
    _ = try? control.toHost.ring(notifyID: NativeLayout.kickAnyBit)
    done.wait()
  }
}
