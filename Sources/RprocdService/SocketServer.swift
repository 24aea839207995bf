import CSystemShims
import Foundation
import Glibc
import RprocdProtocol
import SharedMemory
import Synchronization

/// The daemon's UNIX socket: accepts clients on a thread of its own, at most
/// ``maximumClients`` at a time, and hands each to the request handler.
final class SocketServer: Sendable {
  let path: String
  let listener: UnixSocket
  private let wake: Int32
  private let clients = Mutex<[Int: ClientConnection]>([:])
  private let nextID = Atomic<Int>(0)
  private let acceptDone = Mutex<(done: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))
  let maximumClients: Int
  let log: @Sendable (String) -> Void

  /// Binds the socket at `path` with `mode` (and `group`, when given). A socket file left
  /// by a daemon that died is replaced; one a live daemon listens on is refused.
  init(
    path: String, mode: UInt16, group: UInt32?, maximumClients: Int, log: @escaping @Sendable (String) -> Void
  ) throws(DaemonError) {
    self.path = path
    self.maximumClients = maximumClients
    self.log = log
    if FileManager.default.fileExists(atPath: path) {
      let type = (try? FileManager.default.attributesOfItem(atPath: path))?[.type] as? FileAttributeType
      guard type == .typeSocket else {
        throw DaemonError(.socket, "\(path) exists and is not a socket; remove it or give --socket another path")
      }
      var live = true
      do throws(RprocdError) {
        _ = try UnixSocket.connect(path: path)
      } catch {
        live = error.code != .notRunning
      }
      guard !live else {
        throw DaemonError(.alreadyRunning, "another rprocd listens at \(path); stop it first, or give --socket another path")
      }
      try? FileManager.default.removeItem(atPath: path)  // stale, left by a daemon that died
    }
    do {
      listener = try UnixSocket.listen(path: path)
    } catch {
      throw DaemonError(.socket, "cannot listen at \(path): \(error)")
    }
    do {
      var attributes: [FileAttributeKey: Any] = [.posixPermissions: NSNumber(value: mode)]
      if let group { attributes[.groupOwnerAccountID] = NSNumber(value: group) }
      try FileManager.default.setAttributes(attributes, ofItemAtPath: path)
    } catch {
      try? FileManager.default.removeItem(atPath: path)
      throw DaemonError(.socket, "cannot set the permissions of \(path): \(error.localizedDescription)")
    }
    let wake = rproc_wake_create()
    guard wake >= 0 else {
      try? FileManager.default.removeItem(atPath: path)
      throw DaemonError(.socket, "eventfd: \(FileDescriptorIO.describe(errno: -wake))")
    }
    self.wake = wake
  }

  deinit {
    _ = Glibc.close(wake)
  }

  /// Accepts clients until ``stop()``.
  func start(
    handle: @escaping @Sendable (Request, ClientConnection) async -> Void,
    cleanUp: @escaping @Sendable (ClientConnection) async -> Void
  ) {
    let thread = Thread { [self] in
      defer {
        let waiters = acceptDone.withLock { state in
          state.done = true
          defer { state.waiters = [] }
          return state.waiters
        }
        for waiter in waiters { waiter.resume() }
      }
      while true {
        let socket: UnixSocket
        do {
          guard let accepted = try listener.accept(wake: wake) else { return }
          socket = accepted
        } catch {
          log("socket: \(error); no longer accepting clients")
          return
        }
        admit(socket, handle: handle, cleanUp: cleanUp)
      }
    }
    thread.name = "rprocd-accept"
    thread.start()
  }

  private func admit(
    _ socket: UnixSocket, handle: @escaping @Sendable (Request, ClientConnection) async -> Void,
    cleanUp: @escaping @Sendable (ClientConnection) async -> Void
  ) {
    guard let credentials = socket.peerCredentials else {
      socket.shutdown()
      return
    }
    let id = nextID.add(1, ordering: .relaxed).newValue
    let client = ClientConnection(id: id, socket: socket, credentials: credentials, daemonUID: geteuid())
    let admitted = clients.withLock { clients -> Bool in
      guard clients.count < maximumClients else { return false }
      clients[id] = client
      return true
    }
    guard admitted else {
      log("\(client.description) refused: \(maximumClients) clients are connected")
      client.refuse(nil, ErrorInfo(code: "EUSERS", errno: EUSERS, message: "rprocd serves at most \(maximumClients) clients at once; try again later"))
      client.run(handle: { _, _ in }, protocolError: { _, _ in }, cleanUp: { _ in })
      client.outbox.close()
      return
    }
    client.run(
      handle: handle,
      protocolError: { [log] error, client in log("\(client.description): \(error.message); disconnected") },
      cleanUp: { [self] client in
        await cleanUp(client)
        _ = clients.withLock { $0.removeValue(forKey: client.id) }
      })
  }

  /// The connected clients.
  var connected: [ClientConnection] { clients.withLock { Array($0.values) } }

  /// Stops accepting, disconnects every client (their endpoints and monitors end), and
  /// removes the socket file.
  func stop() async {
    _ = rproc_wake_signal(wake)
    await withCheckedContinuation { continuation in
      let done = acceptDone.withLock { state in
        if !state.done { state.waiters.append(continuation) }
        return state.done
      }
      if done { continuation.resume() }
    }
    for client in connected { await client.disconnect() }
    listener.close()
    try? FileManager.default.removeItem(atPath: path)
  }
}
