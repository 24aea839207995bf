import Dispatch
import Foundation
import RPMsg
import RprocdProtocol
import Synchronization

/// What a connected user may do, from the peer's credentials (`SO_PEERCRED`).
enum Access: String, Sendable {
  /// root or the daemon's own user: everything.
  case admin
  /// Anyone else the socket's permissions let in: look (list, status, channels, attribute
  /// reads) and use endpoints, but change nothing and watch no one else's traffic.
  case user

  static func of(uid: UInt32, daemonUID: UInt32) -> Access {
    uid == 0 || uid == daemonUID ? .admin : .user
  }
}

/// One client: a reader thread that splits the socket into requests, a task that handles
/// them one at a time in order, and a writer thread that sends responses and events.
/// What the client opened (endpoints, monitors) ends with the connection.
final class ClientConnection: Sendable {
  let id: Int
  let socket: UnixSocket
  let credentials: (pid: Int32, uid: UInt32, gid: UInt32)
  let access: Access
  let outbox = Outbox()
  let resources = Mutex(Resources())
  private let handles = Atomic<Int>(0)
  /// Requests read but not yet handled are bounded: the reader waits for a permit.
  private let permits = DispatchSemaphore(value: ClientConnection.maximumQueuedRequests)
  private let processing = Mutex<Task<Void, Never>?>(nil)
  private let finished = Mutex<(done: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))

  static let maximumQueuedRequests = 32
  /// What one connection may hold open at once.
  static let maximumEndpoints = 64
  static let maximumMonitors = 8

  struct Resources {
    var endpoints: [Int: RPMsgEndpoint] = [:]
    /// Monitor handle → processor device name.
    var monitors: [Int: String] = [:]
  }

  init(id: Int, socket: UnixSocket, credentials: (pid: Int32, uid: UInt32, gid: UInt32), daemonUID: UInt32) {
    self.id = id
    self.socket = socket
    self.credentials = credentials
    self.access = Access.of(uid: credentials.uid, daemonUID: daemonUID)
  }

  /// A new handle for an endpoint or monitor of this connection.
  func newHandle() -> Int { handles.add(1, ordering: .relaxed).newValue }

  var description: String { "client \(id) (pid \(credentials.pid), uid \(credentials.uid))" }

  /// Starts the threads and the handling task. `handle` answers one request; `cleanUp`
  /// runs once the connection ended and every request finished.
  func run(
    handle: @escaping @Sendable (Request, ClientConnection) async -> Void,
    protocolError: @escaping @Sendable (RprocdError, ClientConnection) -> Void,
    cleanUp: @escaping @Sendable (ClientConnection) async -> Void
  ) {
    let (requests, sink) = AsyncStream.makeStream(of: Request.self)
    let task = Task {
      for await request in requests {
        await handle(request, self)
        permits.signal()
      }
      await cleanUp(self)
      // The writer sends what is queued (a protocol error's reason) and hangs up; a peer
      // that stopped reading gets 2 s before the socket is shut under it.
      outbox.close()
      Task { [weak socket] in
        try? await Task.sleep(for: .seconds(2))
        socket?.shutdown()
      }
      let waiters = finished.withLock { state in
        state.done = true
        defer { state.waiters = [] }
        return state.waiters
      }
      for waiter in waiters { waiter.resume() }
    }
    processing.withLock { $0 = task }
    let writer = Thread { [self] in writeLoop() }
    writer.name = "rprocd-client-\(id)-out"
    writer.start()
    let reader = Thread { [self] in
      readLoop(sink, protocolError: protocolError)
      sink.finish()
      processing.withLock { $0 }?.cancel()
    }
    reader.name = "rprocd-client-\(id)-in"
    reader.start()
  }

  /// Ends the connection from the daemon's side (shutdown); returns once cleaned up.
  func disconnect() async {
    socket.shutdown()
    permits.signal()
    await waitUntilFinished()
  }

  func waitUntilFinished() async {
    await withCheckedContinuation { continuation in
      let done = finished.withLock { state in
        if !state.done { state.waiters.append(continuation) }
        return state.done
      }
      if done { continuation.resume() }
    }
  }

  /// Sends a response.
  func respond<T: Codable & Sendable>(_ id: Int, _ result: T) {
    do {
      outbox.enqueue(.frame(try ProtocolJSON.frame(Response(id: id, result: result))))
    } catch {
      refuse(id, error.info)
    }
  }

  func refuse(_ id: Int?, _ error: ErrorInfo) {
    if let frame = try? ProtocolJSON.frame(Response<Empty>(id: id, error: error)) {
      outbox.enqueue(.frame(frame))
    }
  }

  private func readLoop(_ sink: AsyncStream<Request>.Continuation, protocolError: @Sendable (RprocdError, ClientConnection) -> Void) {
    var decoder = FrameDecoder(maximumFrameBytes: Frame.maximumRequestBytes)
    var greeted = false
    while true {
      guard let bytes = try? socket.read(), !bytes.isEmpty else { return }
      decoder.append(bytes)
      while true {
        let request: Request
        do throws(RprocdError) {
          guard let frame = try decoder.next() else { break }
          try Frame.checkShape(frame)
          request = try ProtocolJSON.decode(Request.self, from: frame)
          if !greeted {
            guard request.operation == .hello else {
              throw RprocdError(.malformed, "the first request must be hello (with \"version\": \(Frame.protocolVersion))")
            }
            guard request.version == Frame.protocolVersion else {
              throw RprocdError(
                .unsupportedVersion,
                "this rprocd speaks protocol \(Frame.protocolVersion), not \(request.version.map(String.init) ?? "none")")
            }
            greeted = true
          }
        } catch {
          // Garbage: say why, then hang up; the stream cannot be trusted any more.
          protocolError(error, self)
          refuse(nil, error.info)
          outbox.close()
          return
        }
        permits.wait()
        sink.yield(request)
      }
    }
  }

  private func writeLoop() {
    let encoder = ProtocolJSON.encoder()
    var droppedMessages: [Int: Int] = [:]
    var droppedTraffic: [Int: Int] = [:]
    while let (items, newMessages, newTraffic) = outbox.take() {
      droppedMessages.merge(newMessages, uniquingKeysWith: +)
      droppedTraffic.merge(newTraffic, uniquingKeysWith: +)
      var batch: [UInt8] = []
      for item in items {
        switch item {
        case .frame(let frame): batch += frame
        case .message(let endpoint, let source, let destination, let payload):
          let event = MessageEvent(
            endpoint: endpoint, source: source, destination: destination, payload: Data(payload),
            dropped: droppedMessages.removeValue(forKey: endpoint) ?? 0)
          if let json = try? encoder.encode(event) { batch += Frame.encode(Array(json)) }
        case .traffic(let monitor, let record, let clock):
          let event = TrafficEvent(
            monitor: monitor, timeNs: clock.nanoseconds(record.time),
            direction: record.direction == .sent ? "out" : "in", source: record.source.rawValue,
            destination: record.destination.rawValue, flags: record.flags, payload: Data(record.payload),
            dropped: droppedTraffic.removeValue(forKey: monitor) ?? 0)
          if let json = try? encoder.encode(event) { batch += Frame.encode(Array(json)) }
        case .endpointClosed(let endpoint, let reason):
          if let json = try? encoder.encode(EndpointClosedEvent(endpoint: endpoint, reason: reason)) {
            batch += Frame.encode(Array(json))
          }
        }
      }
      do {
        try socket.send(batch)
      } catch {
        outbox.abandon()
        socket.shutdown()
        return
      }
    }
    // Closed (after a protocol error, or at the end): the reader sees end of stream.
    socket.shutdown()
  }
}
