import Firmware
import SharedMemory

/// What a platform (an emulated core, a native process, a test harness) supplies for one
/// remote processor. Linux: `struct rproc_ops`.
///
/// Only ``start(bootAddress:notifier:)``, ``stop()`` and ``memory`` are required. The other
/// operations have the defaults Linux uses when an op is NULL (`remoteproc_internal.h`):
/// prepare and unprepare do nothing, attach and detach are unsupported, kicks go nowhere,
/// address translation searches ``memory``, the loaded resource table is the
/// `.resource_table` section at its device address.
public protocol RemoteProcessorPlatform: AnyObject, Sendable {
  /// A short name of the platform and machine, shown by tools ("emulated mips32").
  var platformName: String { get }

  /// The memory windows the remote can address. Carveouts for `FW_RSC_ADDR_ANY` are
  /// allocated in the pool windows.
  var memory: PlatformMemory { get }

  /// Refuses images this core cannot run (wrong machine, class or byte order).
  /// Linux: `rproc_ops.sanity_check` after `rproc_elf_sanity_check`.
  func checkImage(_ image: ELFImage) throws(RemoteprocError)

  /// Puts the image's segments where the remote runs them. The default copies every
  /// `PT_LOAD` segment through ``translate(deviceAddress:length:)`` and zero-fills its tail;
  /// a platform whose code is loaded some other way (a native process: the kernel's `exec`)
  /// does what it needs instead. Linux: `rproc_ops.load` (default `rproc_elf_load_segments`).
  func load(_ image: ELFImage) throws(FirmwareError)

  /// The device address where the remote reads its resource table, so the core copies the
  /// table there. The default is where the image's segments put the `.resource_table`
  /// section. Linux: `rproc_ops.find_loaded_rsc_table`.
  func loadedResourceTableAddress(of image: ELFImage, table: ResourceTableLocation) -> UInt64?

  /// Powers up what loading needs (clocks, memory). Linux: `rproc_ops.prepare`.
  func prepare() async throws(RemoteprocError)

  /// Undoes ``prepare()``. Linux: `rproc_ops.unprepare`.
  func unprepare() async

  /// Starts executing at `bootAddress`. Crashes and vring interrupts are reported through
  /// `notifier` from then on. Linux: `rproc_ops.start`.
  func start(bootAddress: UInt64, notifier: RemoteprocNotifier) async throws(RemoteprocError)

  /// Stops the remote; it must not touch shared memory afterwards. Linux: `rproc_ops.stop`.
  func stop() async throws(RemoteprocError)

  /// Adopts a remote that is already running. Linux: `rproc_ops.attach`.
  func attach(notifier: RemoteprocNotifier) async throws(RemoteprocError)

  /// Lets go of a running remote without stopping it. Linux: `rproc_ops.detach`.
  func detach() async throws(RemoteprocError)

  /// Tells the remote that vring `notifyID` has new buffers. Called on any thread and must
  /// not block. Linux: `rproc_ops.kick`.
  func kick(notifyID: UInt32)

  /// The memory behind `[da, da + length)`, or nil. Linux: `rproc_ops.da_to_va`.
  func translate(deviceAddress: UInt64, length: Int) -> MemoryRegion?

  /// Where the resource table of a running remote lives, for attach. Linux:
  /// `rproc_ops.get_loaded_rsc_table`. Nil when the remote has no table.
  func loadedResourceTable() throws(RemoteprocError) -> (deviceAddress: UInt64, length: Int)?

  /// The byte order of the remote's tables and rings when there is no ELF to say (attach).
  var byteOrder: ByteOrder { get }

  /// Whether the remote was already running when the platform was registered (then the
  /// processor starts `detached` and ``attach(notifier:)`` adopts it).
  var isRunningAtRegistration: Bool { get }
}

extension RemoteProcessorPlatform {
  public func checkImage(_ image: ELFImage) throws(RemoteprocError) {}
  public func load(_ image: ELFImage) throws(FirmwareError) {
    try image.loadSegments { da, length in translate(deviceAddress: da, length: length) }
  }
  public func loadedResourceTableAddress(of image: ELFImage, table: ResourceTableLocation) -> UInt64? {
    table.loadedDeviceAddress
  }
  public func prepare() async throws(RemoteprocError) {}
  public func unprepare() async {}
  public func attach(notifier: RemoteprocNotifier) async throws(RemoteprocError) {
    throw RemoteprocError(.unsupported, "platform \(platformName) cannot attach to a running remote")
  }
  public func detach() async throws(RemoteprocError) {
    throw RemoteprocError(.unsupported, "platform \(platformName) cannot detach from a running remote")
  }
  public func kick(notifyID: UInt32) {}
  public func translate(deviceAddress: UInt64, length: Int) -> MemoryRegion? {
    memory.translate(deviceAddress: deviceAddress, length: length)
  }
  public func loadedResourceTable() throws(RemoteprocError) -> (deviceAddress: UInt64, length: Int)? { nil }
  public var isRunningAtRegistration: Bool { false }
  public var byteOrder: ByteOrder { .host }
}
