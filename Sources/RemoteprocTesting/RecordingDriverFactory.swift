import Firmware
import Remoteproc
import Synchronization

/// A virtio driver factory for tests of the core's subdevice handling: it drives nothing,
/// records every lifecycle call and the context it was given, and can be told to fail.
public final class RecordingDriverFactory: VirtioDriverFactory {
  public enum Step: String, Sendable, Hashable { case make, prepare, start }

  private struct State {
    var log: [String] = []
    var contexts: [VirtioDeviceContext] = []
    var failing: Set<Step> = []
  }
  private let state = Mutex(State())
  private let poolSize: Int

  public init(bufferPoolSize: Int = 0x4000) {
    poolSize = bufferPoolSize
  }

  public func fail(_ step: Step) { _ = state.withLock { $0.failing.insert(step) } }
  public func succeed(_ step: Step) { _ = state.withLock { $0.failing.remove(step) } }

  /// Every call in order: `make 0`, `prepare 0`, `start 0`, `stop 0 crashed=false`,
  /// `unprepare 0`; a call made to fail ends in ` failed`.
  public var log: [String] { state.withLock { $0.log } }
  /// The contexts drivers were made with, in order.
  public var contexts: [VirtioDeviceContext] { state.withLock { $0.contexts } }

  /// Balanced when every prepared driver was unprepared and every started one stopped.
  public var isBalanced: Bool {
    let log = self.log
    func count(_ prefix: String) -> Int { log.filter { $0.hasPrefix(prefix) && !$0.hasSuffix("failed") }.count }
    return count("prepare") == count("unprepare") && count("start") == count("stop")
  }

  func record(_ line: String, failing step: Step?) throws(RemoteprocError) {
    let fails = state.withLock { s -> Bool in
      let fails = step.map { s.failing.contains($0) } ?? false
      s.log.append(fails ? line + " failed" : line)
      return fails
    }
    if fails { throw RemoteprocError(.platform, "recording driver: \(line) failed as the test asked") }
  }

  public func bufferPoolSize(for device: VirtioDeviceResource) -> Int? { poolSize }

  public func makeDriver(
    _ context: VirtioDeviceContext, notifier: RemoteprocNotifier
  ) throws(RemoteprocError) -> any RemoteprocSubdevice {
    try record("make \(context.index)", failing: .make)
    state.withLock { $0.contexts.append(context) }
    return Driver(factory: self, index: context.index)
  }

  final class Driver: RemoteprocSubdevice {
    let factory: RecordingDriverFactory
    let index: Int
    init(factory: RecordingDriverFactory, index: Int) {
      self.factory = factory
      self.index = index
    }
    func prepare() async throws(RemoteprocError) { try factory.record("prepare \(index)", failing: .prepare) }
    func start() async throws(RemoteprocError) { try factory.record("start \(index)", failing: .start) }
    func stop(crashed: Bool) async { try? factory.record("stop \(index) crashed=\(crashed)", failing: nil) }
    func unprepare() async { try? factory.record("unprepare \(index)", failing: nil) }
  }
}
