import Synchronization

/// Something that happened to a remote processor, for tools and UIs.
public enum RemoteprocEvent: Hashable, Sendable {
  /// The `state` attribute changed.
  case stateChanged(processor: String, from: ProcessorState, to: ProcessorState)
  /// The platform reported a crash (only the first of a burst is handled).
  case crashed(processor: String, type: CrashType, details: String)
  /// Recovery restarted the remote after a crash.
  case recovered(processor: String)
  /// Recovery could not restart the remote; it is offline.
  case recoveryFailed(processor: String, reason: String)
  /// A core dump was taken; read it with ``RemoteProcessor/coredumps``.
  case coredumpTaken(processor: String, bytes: Int)
  /// An rpmsg channel appeared (the remote announced it) or a virtio device came up.
  case channelAdded(processor: String, name: String, source: UInt32, destination: UInt32)
  /// An rpmsg channel went away (destroyed by the remote, or its device reset).
  case channelRemoved(processor: String, name: String, source: UInt32, destination: UInt32)
}

/// Fans events out to every current subscriber. Each subscriber gets its own
/// `AsyncStream`, buffering up to `bufferLimit` events (the oldest are dropped after that,
/// so a slow reader never stalls the processor).
public final class EventBroadcaster: Sendable {
  private let subscribers = Mutex<[Int: AsyncStream<RemoteprocEvent>.Continuation]>([:])
  private let nextID = Atomic<Int>(0)
  private let bufferLimit: Int

  public init(bufferLimit: Int = 1024) {
    self.bufferLimit = bufferLimit
  }

  /// A new stream of the events from now on. It ends when the subscriber stops iterating.
  public func subscribe() -> AsyncStream<RemoteprocEvent> {
    let id = nextID.add(1, ordering: .relaxed).newValue
    let (stream, continuation) = AsyncStream.makeStream(
      of: RemoteprocEvent.self, bufferingPolicy: .bufferingNewest(bufferLimit))
    continuation.onTermination = { [weak self] _ in
      _ = self?.subscribers.withLock { $0.removeValue(forKey: id) }
    }
    subscribers.withLock { $0[id] = continuation }
    return stream
  }

  public func send(_ event: RemoteprocEvent) {
    let continuations = subscribers.withLock { Array($0.values) }
    for continuation in continuations { continuation.yield(event) }
  }

  /// Ends every stream.
  public func finish() {
    let continuations = subscribers.withLock { all -> [AsyncStream<RemoteprocEvent>.Continuation] in
      defer { all.removeAll() }
      return Array(all.values)
    }
    for continuation in continuations { continuation.finish() }
  }

  var subscriberCount: Int { subscribers.withLock { $0.count } }
}
