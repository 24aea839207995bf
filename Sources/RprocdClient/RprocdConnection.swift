import CSystemShims
import Dispatch
import Foundation
import Glibc
import RprocdProtocol
import Synchronization

/// Something the daemon sent without being asked.
public enum RprocdEvent: Sendable {
  case message(MessageEvent)
  case traffic(TrafficEvent)
  case endpointClosed(EndpointClosedEvent)
}

/// A connection to rprocd: requests with their answers, and the events of the endpoints and
/// monitors this connection opened.
///
/// ```swift
/// let connection = try await RprocdConnection.connect(path: "/run/rprocd.sock", client: "rproc")
/// let list = try await connection.request(Request(.list), as: ProcessorList.self)
/// ```
///
/// One thread reads the socket; requests may be made from any task, and each waits for its
/// own answer. When the daemon goes away every waiting request throws
/// ``RprocdError/Code/closed`` and ``events`` ends.
public final class RprocdConnection: Sendable {
  /// The default socket path, unless `RPROCD_SOCKET` names another.
  public static var defaultSocketPath: String {
    ProcessInfo.processInfo.environment["RPROCD_SOCKET"] ?? "/run/rprocd.sock"
  }

  public let path: String
  /// The daemon's `hello` answer.
  public let hello: HelloResult
  let socket: UnixSocket
  let shared: Shared
  /// Events, in arrival order (at most 65536 wait; older ones are dropped after that).
  public let events: AsyncStream<RprocdEvent>

  final class Shared: Sendable {
    struct State {
      var nextID = 1
      var waiting: [Int: CheckedContinuation<[UInt8], any Error>] = [:]
      var ended: RprocdError?
    }
    let state = Mutex(State())
    /// Frames for the writer thread (sends never block a task), and whether it should end.
    let outgoing = Mutex<(frames: [[UInt8]], ended: Bool)>(([], false))
    let outgoingReady = DispatchSemaphore(value: 0)
    let eventSink: AsyncStream<RprocdEvent>.Continuation
    init(eventSink: AsyncStream<RprocdEvent>.Continuation) { self.eventSink = eventSink }

    func send(_ frame: [UInt8]) {
      outgoing.withLock { $0.frames.append(frame) }
      outgoingReady.signal()
    }

    func endSending() {
      outgoing.withLock { $0.ended = true }
      outgoingReady.signal()
    }
  }

  private init(path: String, socket: UnixSocket, shared: Shared, events: AsyncStream<RprocdEvent>, hello: HelloResult) {
    self.path = path
    self.socket = socket
    self.shared = shared
    self.events = events
    self.hello = hello
  }

  deinit {
    socket.shutdown()
  }

  /// Connects and says hello. Throws ``RprocdError/Code/notRunning`` when no daemon
  /// listens at `path`, ``RprocdError/Code/unsupportedVersion`` when it speaks another version.
  public static func connect(path: String = defaultSocketPath, client: String) async throws(RprocdError) -> RprocdConnection {
    let socket = try UnixSocket.connect(path: path)
    let (events, sink) = AsyncStream.makeStream(of: RprocdEvent.self, bufferingPolicy: .bufferingNewest(65536))
    let shared = Shared(eventSink: sink)
    let reader = Thread { Self.readLoop(socket: socket, shared: shared) }
    reader.name = "rprocd-client"
    reader.start()
    let writer = Thread { Self.writeLoop(socket: socket, shared: shared) }
    writer.name = "rprocd-client-out"
    writer.start()
    let helloJSON: [UInt8]
    do {
      helloJSON = try await exchange(
        Request(.hello, version: Frame.protocolVersion, client: client), socket: socket, shared: shared)
    } catch {
      socket.shutdown()
      throw error
    }
    let hello = try decodeResult(HelloResult.self, helloJSON)
    guard hello.protocolVersion == Frame.protocolVersion else {
      socket.shutdown()
      throw RprocdError(.unsupportedVersion, "rprocd speaks protocol \(hello.protocolVersion), this client \(Frame.protocolVersion); use the rproc and rpmsg of the same build")
    }
    return RprocdConnection(path: path, socket: socket, shared: shared, events: events, hello: hello)
  }

  /// Sends `request` (its `id` is chosen here) and returns the result decoded as `type`;
  /// a refusal throws ``RprocdError/Code/refused`` with the daemon's errno and message.
  public func request<T: Decodable & Sendable>(_ request: Request, as type: T.Type) async throws(RprocdError) -> T {
    try Self.decodeResult(type, try await Self.exchange(request, socket: socket, shared: shared))
  }

  /// Closes the connection: the daemon ends what it opened for it (endpoints, monitors).
  public func close() {
    socket.shutdown()
  }

  struct ResultOnly<T: Decodable>: Decodable {
    var result: T
  }

  static func decodeResult<T: Decodable>(_ type: T.Type, _ json: [UInt8]) throws(RprocdError) -> T {
    try ProtocolJSON.decode(ResultOnly<T>.self, from: json).result
  }

  static func exchange(_ request: Request, socket: UnixSocket, shared: Shared) async throws(RprocdError) -> [UInt8] {
    var request = request
    let id: Int
    do {
      id = try shared.state.withLock { (state) throws(RprocdError) -> Int in
        if let ended = state.ended { throw ended }
        defer { state.nextID += 1 }
        return state.nextID
      }
    }
    request.id = id
    let frame = try ProtocolJSON.frame(request)
    do {
      return try await withCheckedThrowingContinuation { continuation in
        let ended = shared.state.withLock { state -> RprocdError? in
          if let ended = state.ended { return ended }
          state.waiting[id] = continuation
          return nil
        }
        if let ended { return continuation.resume(throwing: ended) }
        shared.send(frame)
      }
    } catch let error as RprocdError {
      throw error
    } catch {
      throw RprocdError(.closed, "\(error)")
    }
  }

  /// Sends queued frames in order until the connection ends; a failed send ends it (the
  /// reader then fails every waiting request).
  static func writeLoop(socket: UnixSocket, shared: Shared) {
    while true {
      shared.outgoingReady.wait()
      let (frames, ended) = shared.outgoing.withLock { state in
        defer { state.frames = [] }
        return (state.frames, state.ended)
      }
      if ended { return }
      for frame in frames {
        do { try socket.send(frame) } catch {
          socket.shutdown()
          return
        }
      }
    }
  }

  static func readLoop(socket: UnixSocket, shared: Shared) {
    var decoder = FrameDecoder(maximumFrameBytes: Frame.maximumResponseBytes)
    var ending = RprocdError(.closed, "rprocd closed the connection")
    reading: while true {
      let bytes: [UInt8]
      do { bytes = try socket.read() } catch {
        ending = error
        break
      }
      if bytes.isEmpty { break }
      decoder.append(bytes)
      while true {
        let frame: [UInt8]
        do {
          guard let next = try decoder.next() else { break }
          frame = next
        } catch {
          ending = error
          break reading
        }
        guard let header = try? ProtocolJSON.decode(FrameHeader.self, from: frame) else {
          ending = RprocdError(.malformed, "rprocd sent a frame this client cannot read")
          break reading
        }
        if let event = header.event {
          deliverEvent(event, frame, shared)
        } else if let id = header.id {
          let continuation = shared.state.withLock { $0.waiting.removeValue(forKey: id) }
          if header.ok == true {
            continuation?.resume(returning: frame)
          } else {
            continuation?.resume(throwing: RprocdError(header.error ?? ErrorInfo(code: "EPROTO", errno: nil, message: "refused")))
          }
        } else {
          // The daemon hangs up on a connection that broke the protocol, saying why.
          if let info = header.error { ending = RprocdError(info) }
          break reading
        }
      }
    }
    socket.shutdown()
    let waiting = shared.state.withLock { state in
      state.ended = ending
      defer { state.waiting = [:] }
      return state.waiting
    }
    for continuation in waiting.values { continuation.resume(throwing: ending) }
    shared.eventSink.finish()
    shared.endSending()
  }

  static func deliverEvent(_ name: String, _ frame: [UInt8], _ shared: Shared) {
    switch name {
    case "message":
      if let event = try? ProtocolJSON.decode(MessageEvent.self, from: frame) { shared.eventSink.yield(.message(event)) }
    case "traffic":
      if let event = try? ProtocolJSON.decode(TrafficEvent.self, from: frame) { shared.eventSink.yield(.traffic(event)) }
    case "endpoint-closed":
      if let event = try? ProtocolJSON.decode(EndpointClosedEvent.self, from: frame) {
        shared.eventSink.yield(.endpointClosed(event))
      }
    default:
      break  // an event of a newer daemon: ignored
    }
  }
}
