import Foundation
import RPMsg
import Synchronization

/// The message loops of `rproc bench rpmsg-loopback`, for the benchmark and for tools that
/// count instructions in them (`Benchmarks/Callgrind`): a host and a remote bus over one
/// loopback mapping (256-entry vrings, name service and EVENT_IDX), kicks delivered by
/// calling the other side's `handleKick` right after each send, on the calling thread.
public final class RPMsgLoopbackWorkload {
  let pair: RPMsgLoopback
  let oneway: RPMsgEndpoint
  let client: RPMsgEndpoint
  let received = Count()
  let small = [UInt8](repeating: 0x5A, count: 32)
  let large = [UInt8](repeating: 0xA5, count: 496)
  /// Sends that failed (none, unless something is broken).
  public private(set) var failures = 0

  final class Count: Sendable {
    let value = Atomic<Int>(0)
  }

  public init() throws(RPMsgError) {
    pair = try RPMsgLoopback(vringCount: 256, kicks: .manual)
    try pair.start()
    let received = self.received
    let sink = try pair.remote.createEndpoint(address: EndpointAddress(0x400)) { message in
      received.value.add(message.count, ordering: .relaxed)
    }
    // The echo answers from its own endpoint with a try-send to the source, as OpenAMP's
    // and Linux's callbacks do with the `ept` they are given.
    let echo = try pair.remote.createEndpoint(address: EndpointAddress(0x401)) { message in
      message.withPayload { payload in
        try? message.reply(payload)
      }
    }
    oneway = try pair.host.createEndpoint(destination: sink.address) { _ in }
    client = try pair.host.createEndpoint(destination: echo.address) { message in
      received.value.add(message.count, ordering: .relaxed)
    }
  }

  /// One-way: the host try-sends `payloadCount` bytes to the remote's sink, the remote
  /// takes the message, runs the sink's callback and returns the buffer.
  public func oneWay(payloadCount: Int, messages: Int) {
    let payload = payloadCount > 32 ? large : small
    let oneway = self.oneway, remote = pair.remote
    for _ in 0..<messages {
      do { try oneway.trySend(payload) } catch { failures += 1 }
      remote.handleKick(vring: 1)
    }
  }

  /// Echo: as one-way to the remote's echo endpoint, whose callback replies; the host
  /// receives the reply, runs its callback and re-posts the buffer.
  public func roundTrip(payloadCount: Int, messages: Int) {
    let payload = payloadCount > 32 ? large : small
    let client = self.client, host = pair.host, remote = pair.remote
    for _ in 0..<messages {
      do { try client.trySend(payload) } catch { failures += 1 }
      remote.handleKick(vring: 1)
      host.handleKick(vring: 0)
    }
  }

  /// Zero-copy one-way: borrow a transmit buffer, fill its 496 payload bytes in place (a
  /// memset), send it.
  public func zeroCopy(messages: Int) {
    let oneway = self.oneway, remote = pair.remote
    for _ in 0..<messages {
      do {
        let buffer = try oneway.borrowBuffer()
        buffer.withPayload { span in span.update(repeating: 0xA5) }  // fill in place
        try buffer.send(count: 496)
      } catch {
        failures += 1
      }
      remote.handleKick(vring: 1)
    }
  }

  /// Has another thread kick both buses (taking their transmit and receive locks), which
  /// revokes the locks' bias for good, as in a multi-threaded program. Returns when done.
  /// A thread of its own, not a task: the caller may hold the only thread of the
  /// concurrency pool (a process confined to one CPU has a pool of one).
  public func useFromAnotherThread() {
    let done = Count()
    let host = pair.host, remote = pair.remote
    let thread = Thread {
      host.handleKick()
      remote.handleKick()
      done.value.store(1, ordering: .releasing)
    }
    thread.start()
    while done.value.load(ordering: .acquiring) == 0 { sched_yield() }
  }

  /// Throws unless every send succeeded and neither bus saw a protocol error.
  public func check() throws(RPMsgError) {
    guard failures == 0, pair.host.transportError == nil, pair.remote.transportError == nil else {
      throw RPMsgError(.transport, "the benchmark lost messages: \(failures) sends failed")
    }
  }
}
