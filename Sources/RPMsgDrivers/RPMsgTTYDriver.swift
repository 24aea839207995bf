import RPMsg
import Synchronization

/// A raw byte stream over an `rpmsg-tty` channel. Linux: `drivers/tty/rpmsg_tty.c`
/// (one tty per channel; writes go out in MTU-sized messages, received messages are
/// pushed as bytes).
public final class RPMsgTTYPort: Sendable {
  public let channel: RPMsgChannel
  let streamPair = AsyncStream<[UInt8]>.makeStream(bufferingPolicy: .bufferingOldest(1024))
  let closed = Atomic<Bool>(false)

  init(channel: RPMsgChannel) {
    self.channel = channel
  }

  /// Received bytes in arrival order; finishes when the channel goes away.
  public var input: AsyncStream<[UInt8]> { streamPair.stream }

  /// True until the channel goes away (destroyed by the remote, or reset).
  public var isOpen: Bool { !closed.load(ordering: .acquiring) }

  /// Sends as many bytes as free buffers take, in MTU-sized messages; returns how many
  /// (0 when no buffer is free). Linux: `rpmsg_tty_write` → `rpmsg_trysend`.
  public func tryWrite(_ bytes: [UInt8]) throws(RPMsgError) -> Int {
    let mtu = channel.endpoint.mtu
    var sent = 0
    while sent < bytes.count {
      let n = min(mtu, bytes.count - sent)
      do {
        try channel.endpoint.trySend(bytes.span.extracting(sent..<sent + n), to: channel.destination)
      } catch where error.code == .noBuffer {
        return sent
      }
      sent += n
    }
    return sent
  }

  /// Sends every byte, waiting for buffers (never spinning) up to `timeout` per message.
  public func write(_ bytes: [UInt8], timeout: Duration = .seconds(15)) async throws(RPMsgError) {
    var rest = bytes[...]
    while !rest.isEmpty {
      let n = try tryWrite(Array(rest))
      rest = rest.dropFirst(n)
      if !rest.isEmpty, n == 0 { try await channel.endpoint.waitUntilWritable(timeout: timeout) }
    }
  }

  func deliver(_ bytes: [UInt8]) { streamPair.continuation.yield(bytes) }

  func close() {
    closed.store(true, ordering: .releasing)
    streamPair.continuation.finish()
  }
}

/// Binds `rpmsg-tty` channels and opens a ``RPMsgTTYPort`` on each.
public final class RPMsgTTYDriver: RPMsgDriver {
  public let serviceNames: [String]
  let ports = Mutex<[ObjectIdentifier: RPMsgTTYPort]>([:])
  let opened: @Sendable (RPMsgTTYPort) -> Void

  /// - Parameter opened: called with each new port (on the bus's receive path).
  public init(serviceNames: [String] = ["rpmsg-tty"],
              opened: @escaping @Sendable (RPMsgTTYPort) -> Void = { _ in }) {
    self.serviceNames = serviceNames
    self.opened = opened
  }

  /// The open ports.
  public var openPorts: [RPMsgTTYPort] { ports.withLock { Array($0.values) } }

  public func probe(_ channel: RPMsgChannel) throws(RPMsgError) {
    let port = RPMsgTTYPort(channel: channel)
    ports.withLock { $0[ObjectIdentifier(channel)] = port }
    opened(port)
  }

  public func receive(_ message: inout RPMsgReceivedMessage, on channel: RPMsgChannel) {
    guard let port = ports.withLock({ $0[ObjectIdentifier(channel)] }) else { return }
    port.deliver(message.payload)
  }

  public func remove(_ channel: RPMsgChannel, reason: RPMsgRemovalReason) {
    ports.withLock { $0.removeValue(forKey: ObjectIdentifier(channel)) }?.close()
  }
}
