/// How a host and a remote of OpenAMP's "Linux machine" find each other: a shared-memory file
/// holding the resource table, the vrings and the rpmsg buffers, and a UNIX stream socket for
/// kicks. The defaults are OpenAMP's own (openamp-system-reference,
/// `examples/legacy_apps/system/linux/machine/generic/platform_info.c` and `rsc_table.c`,
/// formerly open-amp's `apps/system/linux/machine/generic`).
///
/// | what | default | OpenAMP |
/// |---|---|---|
/// | ``sharedMemoryPath`` | `/dev/shm/openamp.shm` | `metal_shmem_open("openamp.shm")`: `shm_open`, so `/dev/shm` |
/// | ``sharedMemorySize`` | 0x80000 | `.shm_size = 0x80000` (libmetal grows the file to it) |
/// | ``tableOffset`` | 0 | `RSC_MEM_PA 0x0` |
/// | ``deviceAddressBase`` | 0 | "offset and phys are the same" (`linux_proc_offset_to_phys`) |
/// | ``bufferPoolOffset`` | 0x10000 | `SHARED_BUF_PA 0x10000` |
/// | ``bufferPoolSize`` | 0x40000 | `SHARED_BUF_SIZE 0x40000` (512 buffers of 512 bytes) |
/// | ``socketPath`` | `/tmp/openamp.event.0` | `"unixs:/tmp/openamp.event.0"`: the remote listens, the host connects |
///
/// The vrings are wherever the table says (OpenAMP's table: 0x4000 and 0x8000, 256 entries,
/// aligned to 0x1000); a remote chooses them with ``OpenAMPRemote/TableOptions``.
public struct OpenAMPConfiguration: Hashable, Sendable {
  /// The shared-memory file. OpenAMP: `metal_shmem_open` → `shm_open("openamp.shm")`.
  public var sharedMemoryPath: String
  /// Bytes of the file the two sides map. OpenAMP: `remoteproc_priv.shm_size`.
  public var sharedMemorySize: Int
  /// Where the resource table starts in the file. OpenAMP: `RSC_MEM_PA`.
  public var tableOffset: Int
  /// The device address of the file's first byte: byte `o` of the file is device address
  /// `deviceAddressBase + o`. OpenAMP: 0 (`linux_proc_offset_to_phys`).
  public var deviceAddressBase: UInt64
  /// Where the host's rpmsg buffers start in the file. OpenAMP: `SHARED_BUF_PA`.
  public var bufferPoolOffset: Int
  /// Bytes of rpmsg buffers (receive buffers first, transmit buffers second). OpenAMP:
  /// `SHARED_BUF_SIZE`.
  public var bufferPoolSize: Int
  /// The UNIX stream socket that carries kicks: one byte per kick, either way, on one
  /// connection; the remote listens and the host connects. OpenAMP: `ipi.path`.
  public var socketPath: String

  /// OpenAMP's values.
  public init(
    sharedMemoryPath: String = "/dev/shm/openamp.shm", sharedMemorySize: Int = 0x80000, tableOffset: Int = 0,
    deviceAddressBase: UInt64 = 0, bufferPoolOffset: Int = 0x10000, bufferPoolSize: Int = 0x40000,
    socketPath: String = "/tmp/openamp.event.0"
  ) {
    self.sharedMemoryPath = sharedMemoryPath
    self.sharedMemorySize = sharedMemorySize
    self.tableOffset = tableOffset
    self.deviceAddressBase = deviceAddressBase
    self.bufferPoolOffset = bufferPoolOffset
    self.bufferPoolSize = bufferPoolSize
    self.socketPath = socketPath
  }

  /// The longest socket path a `sockaddr_un` holds on Linux (`sun_path` less its NUL).
  public static let maximumSocketPathLength = 107
  /// The smallest table: its 16-byte header.
  static let minimumTableBytes = 16

  /// The device address of byte `offset` of the file.
  public func deviceAddress(ofOffset offset: Int) -> UInt64 {
    deviceAddressBase + UInt64(offset)
  }

  /// The file offset of device address `da`, when the file holds `[da, da + length)`.
  public func offset(ofDeviceAddress da: UInt64, length: Int) -> Int? {
    guard da >= deviceAddressBase, length >= 0 else { return nil }
    let offset = da - deviceAddressBase
    guard offset <= UInt64(sharedMemorySize), UInt64(length) <= UInt64(sharedMemorySize) - offset else { return nil }
    return Int(offset)
  }

  /// Checks every value, and throws naming the field and the numbers: sizes and offsets
  /// inside the file and aligned where the wire needs it, device addresses within 32 bits (the
  /// table's `da` fields), paths a UNIX socket and `open` accept.
  public func validate() throws(OpenAMPError) {
    func refuse(_ message: String) -> OpenAMPError { OpenAMPError(.invalidConfiguration, message) }
    guard !sharedMemoryPath.isEmpty, !sharedMemoryPath.utf8.contains(0) else {
      throw refuse("sharedMemoryPath \(sharedMemoryPath.debugDescription): give a file path without NUL bytes")
    }
    guard sharedMemorySize > 0, sharedMemorySize <= 1 << 32 else {
      throw refuse("sharedMemorySize \(hex(sharedMemorySize)) must be in 0x1...0x100000000")
    }
    guard tableOffset >= 0, tableOffset % 4 == 0, tableOffset <= sharedMemorySize - Self.minimumTableBytes else {
      throw refuse(
        "tableOffset \(hex(tableOffset)) must be a multiple of 4 with room for the table's \(Self.minimumTableBytes)-byte header in the \(hex(sharedMemorySize))-byte file")
    }
    guard bufferPoolSize > 0, bufferPoolOffset >= 0, bufferPoolOffset % 16 == 0,
      bufferPoolOffset <= sharedMemorySize, bufferPoolSize <= sharedMemorySize - bufferPoolOffset
    else {
      throw refuse(
        "the rpmsg buffers [\(hex(bufferPoolOffset)), +\(hex(bufferPoolSize))) must be non-empty, 16-byte aligned and inside the \(hex(sharedMemorySize))-byte file")
    }
    guard deviceAddressBase <= UInt64(UInt32.max) + 1 - UInt64(sharedMemorySize) else {
      throw refuse(
        "deviceAddressBase \(hex(deviceAddressBase)) + sharedMemorySize \(hex(sharedMemorySize)) passes 2^32; the table's device addresses are 32-bit")
    }
    let socket = Array(socketPath.utf8)
    guard !socket.isEmpty, !socket.contains(0), socket.count <= Self.maximumSocketPathLength else {
      throw refuse(
        "socketPath \(socketPath.debugDescription) must be 1...\(Self.maximumSocketPathLength) bytes without NUL (it has \(socket.count))")
    }
  }
}

/// `0x` and lowercase hex, as the rest of the package prints addresses.
func hex<T: BinaryInteger>(_ value: T) -> String { "0x" + String(value, radix: 16) }
