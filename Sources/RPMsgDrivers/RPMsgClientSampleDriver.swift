import RPMsg
import Synchronization

/// The outcome of one `rpmsg-client-sample` exchange.
public struct RPMsgClientSampleReport: Hashable, Sendable {
  /// The remote's address.
  public var remote: EndpointAddress
  /// Messages sent ("hello world!").
  public var sent: Int
  /// Echoes received.
  public var received: Int
  /// Echoes whose bytes differed from what was sent.
  public var mismatches: Int
  /// True once `rounds` echoes came back.
  public var finished: Bool

  public init(remote: EndpointAddress, sent: Int, received: Int, mismatches: Int, finished: Bool) {
    self.remote = remote
    self.sent = sent
    self.received = received
    self.mismatches = mismatches
    self.finished = finished
  }
}

/// The `rpmsg-client-sample` driver: on probe it sends "hello world!", and on each echo
/// sends it again, until `rounds` (100) echoes came back; then it says goodbye (stops).
/// Linux: `samples/rpmsg/rpmsg_client_sample.c` (`MSG`, `MSG_LIMIT`).
public final class RPMsgClientSampleDriver: RPMsgDriver {
  public static let message = Array("hello world!".utf8)
  public let serviceNames: [String]
  public let rounds: Int
  let state = Mutex<[ObjectIdentifier: RPMsgClientSampleReport]>([:])
  let finishedPair = AsyncStream<RPMsgClientSampleReport>.makeStream()
  let log: @Sendable (String) -> Void

  public init(serviceNames: [String] = ["rpmsg-client-sample"], rounds: Int = 100,
              log: @escaping @Sendable (String) -> Void = { _ in }) {
    self.serviceNames = serviceNames
    self.rounds = rounds
    self.log = log
  }

  /// One report per channel that finished, as it finishes.
  public var finished: AsyncStream<RPMsgClientSampleReport> { finishedPair.stream }

  /// Every channel's report so far.
  public var reports: [RPMsgClientSampleReport] { state.withLock { Array($0.values) } }

  public func probe(_ channel: RPMsgChannel) throws(RPMsgError) {
    log("new channel: 0x\(String(channel.endpoint.address.rawValue, radix: 16)) -> "
          + "0x\(String(channel.destination.rawValue, radix: 16))")
    state.withLock {
      $0[ObjectIdentifier(channel)] = RPMsgClientSampleReport(
        remote: channel.destination, sent: 0, received: 0, mismatches: 0, finished: false)
    }
    send(on: channel)
  }

  /// Sends the message, now or as soon as a buffer frees (never spinning).
  func send(on channel: RPMsgChannel) {
    do {
      try channel.trySend(Self.message)
      state.withLock { $0[ObjectIdentifier(channel)]?.sent += 1 }
    } catch where error.code == .noBuffer {
      channel.bus.whenWritable { [weak self] outcome in
        if outcome == .writable { self?.send(on: channel) }
      }
    } catch {
      log("rpmsg_send failed: \(error)")
    }
  }

  public func receive(_ message: inout RPMsgReceivedMessage, on channel: RPMsgChannel) {
    let matches = message.withPayload { span in
      span.count == Self.message.count && (0..<span.count).allSatisfy { span[$0] == Self.message[$0] }
    }
    let report = state.withLock { s -> RPMsgClientSampleReport? in
      guard var r = s[ObjectIdentifier(channel)], !r.finished else { return nil }
      r.received += 1
      if !matches { r.mismatches += 1 }
      r.finished = r.received >= rounds
      s[ObjectIdentifier(channel)] = r
      return r
    }
    guard let report else { return }
    log("incoming msg \(report.received) (src: 0x\(String(message.source.rawValue, radix: 16)))")
    if report.finished {
      log("goodbye!")
      finishedPair.continuation.yield(report)
    } else {
      send(on: channel)
    }
  }

  public func remove(_ channel: RPMsgChannel, reason: RPMsgRemovalReason) {
    log("rpmsg sample client driver is removed")
    state.withLock { _ = $0.removeValue(forKey: ObjectIdentifier(channel)) }
  }
}
