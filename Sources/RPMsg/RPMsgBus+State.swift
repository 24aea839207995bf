import SharedMemory
import Virtio

extension RPMsgBus {
  /// The transmit side, under `tx`.
  struct TxState: Sendable {
    var host: HostTransmitter?
    var remote: RemoteTransmitter?
    var map = DeviceAddressMap()
    var order: ByteOrder = .little
    var notifyID: UInt32 = 0
    var running = false
    var nameService = false
    var epoch: UInt64 = 0
    var sent: UInt64 = 0
    var brokenError: RPMsgError?
    /// Zero-copy buffers handed out and not yet sent or released.
    var borrowed = 0
  }

  /// The vdev handshake and per-boot facts, under `control`.
  struct Control: Sendable {
    var handshake: VirtioDriverHandshake?
    var features: VirtioFeatures = []
  }

  /// The receive side, under `rx`.
  struct RxState: ~Copyable, Sendable {
    var host: HostReceiver?
    var remote: RemoteReceiver?
    /// What delivering a message needs, apart from the ring (so that the receive loop can
    /// hold the ring and this at the same time: disjoint stored properties).
    var delivery = Delivery()
    var notifyID: UInt32 = 0
    var running = false
    var brokenError: RPMsgError?

    var epoch: UInt64 { delivery.epoch }
  }

  /// The receive side's per-boot facts and endpoint cache, under `rx`.
  struct Delivery: ~Copyable, Sendable {
    var map = DeviceAddressMap()
    var order: ByteOrder = .little
    var epoch: UInt64 = 0
    var received: UInt64 = 0
    /// The last endpoint looked up, valid while `generation` matches.
    var cachedAddress: UInt32 = EndpointAddress.any.rawValue
    var cachedGeneration: UInt64 = 0
    var cachedEndpoint: EndpointReference?
    /// `cachedEndpoint`'s receive callback, if it has one.
    var cachedCallback: ReceiveCallback?
    /// Lent to the messages of this boot, one at a time.
    var session: SessionReference?
  }
}
