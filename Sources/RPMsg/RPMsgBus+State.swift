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
  struct RxState: Sendable {
    var host: HostReceiver?
    var remote: RemoteReceiver?
    var map = DeviceAddressMap()
    var order: ByteOrder = .little
    var notifyID: UInt32 = 0
    var running = false
    var epoch: UInt64 = 0
    var received: UInt64 = 0
    var brokenError: RPMsgError?
    /// The last endpoint looked up, valid while `generation` matches.
    var cachedAddress: UInt32 = EndpointAddress.any.rawValue
    var cachedGeneration: UInt64 = 0
    var cachedEndpoint: RPMsgEndpoint?
    var cachedCallback: (@Sendable (inout RPMsgReceivedMessage) -> Void)?
    /// Shared with the messages of this boot.
    var session: RPMsgSession?
  }
}

