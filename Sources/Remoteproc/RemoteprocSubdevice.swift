import Firmware
import SharedMemory

/// Something that lives while the remote runs: a virtio device, a watchdog, a sysmon.
/// Linux: `struct rproc_subdev`.
///
/// The core prepares every subdevice before starting the remote, starts them after it, and
/// stops and unprepares them in reverse order. A failure undoes the ones already done.
public protocol RemoteprocSubdevice: AnyObject, Sendable {
  /// Before the remote starts. Linux: `rproc_subdev.prepare`.
  func prepare() async throws(RemoteprocError)
  /// After the remote started. Linux: `rproc_subdev.start`.
  func start() async throws(RemoteprocError)
  /// Before the remote stops; `crashed` tells the subdevice the remote is gone.
  /// Linux: `rproc_subdev.stop`.
  func stop(crashed: Bool) async
  /// After the remote stopped. Linux: `rproc_subdev.unprepare`.
  func unprepare() async
}

extension RemoteprocSubdevice {
  public func prepare() async throws(RemoteprocError) {}
  public func unprepare() async {}
}

/// Everything a virtio driver needs to drive one vdev of a running remote. Linux: what
/// `struct rproc_vdev` and its `rproc_vring`s hold.
public struct VirtioDeviceContext: Sendable {
  /// Which vdev of the table this is (0, 1, …): `vdev0vring0` naming.
  public var index: Int
  /// The processor's device name ("remoteproc0"), for messages.
  public var processorName: String
  /// The vdev entry as the firmware published it.
  public var resource: VirtioDeviceResource
  /// The entry's payload (`struct fw_rsc_vdev` and its vrings and config) in the loaded
  /// resource table, where the host writes status and features and the remote reads them.
  public var entry: MemoryRegion
  /// Byte order of the table and the rings (the firmware's).
  public var byteOrder: ByteOrder
  /// One per vring, in table order.
  public var vrings: [Vring]
  /// Memory for the driver's buffers (`vdev0buffer`), when it asked for any.
  public var bufferPool: Carveout?
  /// The remote's whole address space as the platform maps it, for translating the
  /// device addresses a peer writes into descriptors.
  public var memory: PlatformMemory
  /// Sends a vring notification to the remote. Linux: `rproc_virtio_notify`.
  public var kick: @Sendable (_ notifyID: UInt32) -> Void
  /// Attached rather than booted: the remote may already have run this device.
  public var isAttach: Bool

  public struct Vring: Sendable {
    public var notifyID: UInt32
    public var count: UInt32
    public var alignment: UInt32
    public var memory: Carveout
  }
}

/// Creates the host-side driver for each vdev a firmware publishes. Linux: the virtio bus
/// matching a driver (virtio_rpmsg_bus, virtio_console) to the device id.
public protocol VirtioDriverFactory: Sendable {
  /// Bytes of buffer memory the driver for `device` needs (`vdev0buffer`), 0 for none,
  /// or nil when no driver handles the device id (it is then left alone, as Linux leaves a
  /// virtio device without a matching driver).
  func bufferPoolSize(for device: VirtioDeviceResource) -> Int?

  /// The subdevice that drives the vdev while the remote runs.
  func makeDriver(
    _ context: VirtioDeviceContext, notifier: RemoteprocNotifier
  ) throws(RemoteprocError) -> any RemoteprocSubdevice
}
