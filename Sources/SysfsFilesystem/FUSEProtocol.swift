/// The parts of the Linux FUSE kernel protocol this server speaks.
/// Reference: include/uapi/linux/fuse.h (protocol 7.x); all fields in host byte order.
enum FUSE {
  /// Linux: `enum fuse_opcode`.
  enum Opcode: UInt32 {
    case lookup = 1, forget = 2, getattr = 3, setattr = 4, readlink = 5, symlink = 6
    case mknod = 8, mkdir = 9, unlink = 10, rmdir = 11, rename = 12, link = 13
    case open = 14, read = 15, write = 16, statfs = 17, release = 18, fsync = 20
    case flush = 25, initialize = 26, opendir = 27, readdir = 28, releasedir = 29
    case access = 34, create = 35, interrupt = 36, destroy = 38, batchForget = 42
    case rename2 = 45, tmpfile = 51
  }

  static let kernelMajor: UInt32 = 7
  /// The minor version we answer with at most: every structure used here has had its
  /// current size since 7.23 or earlier.
  static let maximumMinor: UInt32 = 31

  /// `struct fuse_in_header`.
  static let inHeaderSize = 40
  /// `struct fuse_out_header`.
  static let outHeaderSize = 16

  /// Largest WRITE payload we accept (`max_write` in the INIT reply). Sysfs stores take at
  /// most a page; this is generous.
  static let maximumWrite = 65536
  /// A read of `/dev/fuse` must have room for the largest request. Linux: at least
  /// `FUSE_MIN_READ_BUFFER` (8192) and the headers plus `max_write`.
  static let readBufferSize = maximumWrite + 4096

  // INIT flags (`fuse_init_in.flags`). We ask for these when offered.
  static let asyncRead: UInt32 = 1 << 0
  static let bigWrites: UInt32 = 1 << 5
  static let parallelDirectoryOperations: UInt32 = 1 << 18
  static let wantedFlags = asyncRead | bigWrites | parallelDirectoryOperations

  // `fuse_open_out.open_flags`.
  /// `FOPEN_DIRECT_IO`: reads and writes bypass the page cache, so `cat` gets the real
  /// content even though the size we report is 4096.
  static let directIO: UInt32 = 1 << 0

  // `fuse_setattr_in.valid`.
  static let setMode: UInt32 = 1 << 0
  static let setOwner: UInt32 = 1 << 1
  static let setGroup: UInt32 = 1 << 2
  static let setSize: UInt32 = 1 << 3

  // File types for `fuse_attr.mode` and `fuse_dirent.type`.
  static let directoryType: UInt32 = 0o040000
  static let regularType: UInt32 = 0o100000
  static let direntDirectory: UInt32 = 4  // DT_DIR
  static let direntRegular: UInt32 = 8  // DT_REG

  /// What a sysfs file reports as its size (Linux: `PAGE_SIZE` for every attribute).
  static let fileSize: UInt64 = 4096
}

/// Reads the fields of one request (`/dev/fuse` gives whole requests, one per `read(2)`).
/// Every access is bounds-checked against the request's length; a short request makes the
/// field read fail, and the request is answered with `EIO`.
struct FUSERequest {
  let opcode: UInt32
  let unique: UInt64
  let nodeID: UInt64
  let uid: UInt32
  let gid: UInt32
  let pid: UInt32
  /// The bytes after the header.
  let body: [UInt8]

  init?(_ bytes: [UInt8]) {
    guard bytes.count >= FUSE.inHeaderSize else { return nil }
    let reader = FUSEFields(bytes)
    guard let length = reader.u32(at: 0), Int(length) == bytes.count else { return nil }
    opcode = reader.u32(at: 4)!
    unique = reader.u64(at: 8)!
    nodeID = reader.u64(at: 16)!
    uid = reader.u32(at: 24)!
    gid = reader.u32(at: 28)!
    pid = reader.u32(at: 32)!
    body = Array(bytes[FUSE.inHeaderSize...])
  }

  var fields: FUSEFields { FUSEFields(body) }

  /// The NUL-terminated name at `offset` of the body (LOOKUP and friends).
  func name(at offset: Int = 0) -> String? {
    guard offset <= body.count, let end = body[offset...].firstIndex(of: 0) else { return nil }
    return String(decoding: body[offset..<end], as: UTF8.self)
  }
}

/// Host-order integer reads that return nil past the end.
struct FUSEFields {
  let bytes: [UInt8]
  init(_ bytes: [UInt8]) { self.bytes = bytes }

  private func integer<T: FixedWidthInteger>(_: T.Type, at offset: Int) -> T? {
    let size = T.bitWidth / 8
    guard offset >= 0, offset <= bytes.count - size else { return nil }
    var value = T.zero
    for index in (0..<size).reversed() { value = value << 8 | T(bytes[offset + index]) }
    return T(littleEndian: value)
  }

  func u32(at offset: Int) -> UInt32? { integer(UInt32.self, at: offset) }
  func u64(at offset: Int) -> UInt64? { integer(UInt64.self, at: offset) }
}

/// Builds a reply in host byte order.
struct FUSEReply {
  private(set) var bytes: [UInt8] = []

  mutating func append<T: FixedWidthInteger>(_ value: T) {
    let little = value.littleEndian
    for index in 0..<T.bitWidth / 8 { bytes.append(UInt8(truncatingIfNeeded: little >> (index * 8))) }
  }

  mutating func append(_ data: [UInt8]) { bytes += data }

  mutating func pad(to alignment: Int) {
    bytes += [UInt8](repeating: 0, count: (alignment - bytes.count % alignment) % alignment)
  }

  /// The whole message: `struct fuse_out_header` then the body.
  static func message(unique: UInt64, error: Int32 = 0, body: [UInt8] = []) -> [UInt8] {
    var reply = FUSEReply()
    reply.append(UInt32(FUSE.outHeaderSize + body.count))
    reply.append(-abs(error))
    reply.append(unique)
    reply.append(body)
    return reply.bytes
  }
}
