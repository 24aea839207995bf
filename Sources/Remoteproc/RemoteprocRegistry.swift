import Synchronization

/// The processors of a host, named `remoteproc0`, `remoteproc1`, … in registration order.
/// Linux: `rproc_alloc` + `rproc_add` and the remoteproc class.
public final class RemoteprocRegistry: Sendable {
  private let processors = Mutex<[RemoteProcessor]>([])
  private let nextIndex = Atomic<Int>(0)
  /// Every processor's events, in one stream per subscriber.
  public let events = EventBroadcaster()

  public init() {}

  /// Registers a processor. With `options.autoBoot` it boots (or, when the platform says the
  /// remote is already running, attaches) before this returns; a failed auto-boot leaves it
  /// registered and offline, and the error is returned beside it.
  @discardableResult
  public func add(
    name: String, firmware: String, platform: any RemoteProcessorPlatform, firmwareStore: FirmwareStore,
    drivers: (any VirtioDriverFactory)? = nil, options: RemoteProcessor.Options = .init()
  ) async -> (processor: RemoteProcessor, autoBootError: RemoteprocError?) {
    let index = nextIndex.add(1, ordering: .relaxed).oldValue
    let processor = RemoteProcessor(
      index: index, name: name, firmware: firmware, platform: platform, firmwareStore: firmwareStore,
      drivers: drivers, options: options, events: events)
    processors.withLock { $0.append(processor) }
    var failure: RemoteprocError?
    if options.autoBoot {
      do { try await processor.boot() } catch { failure = error }
    }
    return (processor, failure)
  }

  /// All registered processors, in index order.
  public var all: [RemoteProcessor] { processors.withLock { $0 } }

  /// The processor called `remoteprocN`, or nil.
  public func processor(named deviceName: String) -> RemoteProcessor? {
    processors.withLock { $0.first { $0.deviceName == deviceName } }
  }

  /// Stops (or, for `detach: true` and attached remotes, detaches) a processor and removes it.
  /// Linux: `rproc_del`.
  public func remove(_ processor: RemoteProcessor, detach: Bool = false) async {
    await processor.forceDown(detach: detach)
    processors.withLock { $0.removeAll { $0 === processor } }
  }
}

extension RemoteProcessor {
  /// Brings the remote down whatever its reference count, for removal.
  func forceDown(detach: Bool) async {
    while state.isUp || state == .crashed {
      let before = powerReferences
      if detach, state.isUp, (try? await self.detach()) != nil { continue }
      if (try? await shutdown()) == nil, powerReferences == before { break }
    }
  }
}
