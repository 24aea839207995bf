import RPMsg
import SharedMemory
import Synchronization
import Virtio

/// A thread-safe box for collecting what callbacks see.
final class Collector<T: Sendable>: Sendable {
  let items = Mutex<[T]>([])
  func append(_ t: T) { items.withLock { $0.append(t) } }
  var all: [T] { items.withLock { $0 } }
  var count: Int { items.withLock { $0.count } }
}

/// A started loopback pair.
func startedPair(
  vringCount: Int = 16, features: VirtioFeatures = [.rpmsgNameService, .eventIndex],
  hostFeatures: VirtioFeatures = [.rpmsgNameService, .eventIndex], order: ByteOrder = .little,
  kicks: RPMsgLoopback.KickDelivery = .immediate, guardBytes: Int = 0
) throws -> RPMsgLoopback {
  let pair = try RPMsgLoopback(vringCount: vringCount, features: features,
                               hostFeatures: hostFeatures, byteOrder: order, kicks: kicks,
                               guardBytes: guardBytes)
  try pair.start()
  return pair
}

extension String {
  var bytes: [UInt8] { Array(utf8) }
}
