import Firmware
import SharedMemory

/// The resources of one boot (or attach) of a remote, from resource handling to cleanup.
/// Linux: the lists hanging off `struct rproc` (carveouts, traces, rvdevs, subdevs) plus
/// `cached_table` / `table_ptr`.
struct BootSession: Sendable {
  /// The firmware name it was booted with (nil when attached).
  var firmwareName: String?
  /// The parsed table as the firmware published it (nil: firmware without a table).
  var originalTable: ResourceTable?
  /// The host's copy of the table with the allocations written back. Linux: `cached_table`.
  var cache: LoadedResourceTable?
  /// The table in remote memory once loaded or adopted. Linux: `table_ptr` after
  /// `find_loaded_rsc_table`.
  var loaded: LoadedResourceTable?
  /// Where the table lives in remote memory.
  var loadedTableAddress: UInt64?
  var carveouts: [Carveout] = []
  var traces: [TraceResource] = []
  var vdevs: [VdevRecord] = []
  var subdevices: [any RemoteprocSubdevice] = []
  var bootAddress: UInt64 = 0
  /// The firmware's loaded segments (for core dumps).
  var segments: [ProgramHeader] = []
  /// Class, byte order and machine for core dumps.
  var coreFormat: CoreFormat?
  /// True while the remote executes (start succeeded and stop has not run).
  var isStarted = false
  var isAttach = false

  /// The table as it should be shown: the loaded one when there is one.
  var currentTable: LoadedResourceTable? { loaded ?? cache }
}

/// The ELF class, byte order and machine of the firmware, for the core file.
struct CoreFormat: Sendable {
  var elfClass: ELFClass
  var byteOrder: ByteOrder
  var machine: ELFMachine
}

/// A vdev entry and the memory the core gave it. Linux: `struct rproc_vdev`.
struct VdevRecord: Sendable {
  var index: Int
  var entry: ResourceEntry
  var resource: VirtioDeviceResource
  var vrings: [VirtioDeviceContext.Vring]
  var bufferPool: Carveout?
}

/// One core dump. Linux: a devcoredump file.
public struct Coredump: Sendable {
  /// The ELF core file.
  public var bytes: [UInt8]
  public var crash: CrashType
  public var details: String
  /// Crash number (1 for the first crash of this processor).
  public var number: Int
}
