import SharedMemory

/// The rpmsg wire format, as Linux `virtio_rpmsg_bus.c` lays it out.
public enum RPMsgWire {
  /// Bytes of one buffer, header included. Linux: `MAX_RPMSG_BUF_SIZE`.
  @inlinable public static var bufferSize: Int { 512 }
  /// Bytes of the header. Wire: `struct rpmsg_hdr`.
  @inlinable public static var headerSize: Int { 16 }
  /// The largest payload. Linux: `rpmsg_get_mtu` = 512 − 16.
  @inlinable public static var mtu: Int { 496 }
  /// Linux: `MAX_RPMSG_NUM_BUFS`.
  public static let maximumBufferCount = 512
  /// Bytes of a name-service message. Wire: `struct rpmsg_ns_msg`.
  public static let nameServiceMessageSize = 40
  /// Bytes of a channel name, NUL included. Linux: `RPMSG_NAME_SIZE`.
  public static let nameSize = 32

  /// Header field offsets. Wire: `rpmsg_hdr.src, dst, reserved, len, flags`.
  public static let sourceOffset = 0, destinationOffset = 4, reservedOffset = 8
  public static let lengthOffset = 12, flagsOffset = 14

  /// Buffers in the pool for a receive vring of `count` entries: half receive, half
  /// transmit. Linux: `num_bufs = vring0.num < MAX/2 ? 2·num : MAX`.
  public static func bufferCount(receiveVringCount count: Int) -> Int {
    count < maximumBufferCount / 2 ? 2 * count : maximumBufferCount
  }

  /// Writes a header and copies the payload into a buffer at `offset`.
  @inlinable @inline(__always)
  static func writeMessage(
    into region: MemoryRegion, at offset: Int, source: UInt32, destination: UInt32,
    payload: Span<UInt8>, order: ByteOrder
  ) throws(SharedMemoryError) {
    try writeHeader(into: region, at: offset, source: source, destination: destination,
                    length: UInt16(truncatingIfNeeded: payload.count), order: order)
    try region.write(payload, at: offset &+ 16)
  }

  /// Writes a header (`src, dst, reserved = 0, len, flags = 0`) at `offset`: one range
  /// check for the 16 bytes, then five plain stores.
  @inlinable @inline(__always)
  static func writeHeader(
    into region: MemoryRegion, at offset: Int, source: UInt32, destination: UInt32,
    length: UInt16, order: ByteOrder
  ) throws(SharedMemoryError) {
    try region.withRecord(at: offset, count: 16, order: order) { header in
      header.store(source, at: 0)
      header.store(destination, at: 4)
      header.store(UInt32(0), at: 8)
      header.store(length, at: 12)
      header.store(UInt16(0), at: 14)
    }
  }

  /// Reads `src`, `dst` and `len` of the header at `offset`: one range check, three loads.
  @inlinable @inline(__always)
  static func readHeader(
    in region: MemoryRegion, at offset: Int, order: ByteOrder
  ) throws(SharedMemoryError) -> (source: UInt32, destination: UInt32, length: UInt16) {
    try region.withRecord(at: offset, count: 16, order: order) { header in
      (header.load(UInt32.self, at: 0), header.load(UInt32.self, at: 4),
       header.load(UInt16.self, at: 12))
    }
  }

  /// Encodes a name-service message. Wire: `struct rpmsg_ns_msg` (`name[32]`, `addr`,
  /// `flags`: 0 create, 1 destroy), in `order`.
  public static func nameServiceMessage(
    name: String, address: EndpointAddress, destroy: Bool, order: ByteOrder
  ) -> [UInt8] {
    var bytes = [UInt8](repeating: 0, count: nameServiceMessageSize)
    for (i, b) in name.utf8.prefix(nameSize - 1).enumerated() { bytes[i] = b }
    func put(_ value: UInt32, _ at: Int) {
      for k in 0..<4 {
        let shift = order == .little ? 8 * k : 8 * (3 - k)
        bytes[at + k] = UInt8(truncatingIfNeeded: value >> shift)
      }
    }
    put(address.rawValue, 32)
    put(destroy ? 1 : 0, 36)
    return bytes
  }

  /// A decoded name-service announcement.
  public struct Announcement: Hashable, Sendable {
    public var name: String
    public var address: EndpointAddress
    /// True for `RPMSG_NS_DESTROY`.
    public var isDestroy: Bool

    public init(name: String, address: EndpointAddress, isDestroy: Bool) {
      self.name = name
      self.address = address
      self.isDestroy = isDestroy
    }
  }

  /// Why a name-service message was dropped.
  public enum NameServiceProblem: Hashable, Sendable {
    case wrongSize(Int), missingTerminator, invalidUTF8, emptyName
  }

  /// Decodes a name-service message; it must be exactly 40 bytes with a NUL-terminated
  /// UTF-8 name. Linux checks the size and forces a NUL; we drop unterminated names.
  public static func decodeNameService(
    _ bytes: Span<UInt8>, order: ByteOrder
  ) -> Result<Announcement, NameServiceProblemError> {
    guard bytes.count == nameServiceMessageSize else {
      return .failure(.init(problem: .wrongSize(bytes.count)))
    }
    var nameBytes: [UInt8] = []
    var terminated = false
    for i in 0..<nameSize {
      if bytes[i] == 0 { terminated = true; break }
      nameBytes.append(bytes[i])
    }
    guard terminated else { return .failure(.init(problem: .missingTerminator)) }
    guard !nameBytes.isEmpty else { return .failure(.init(problem: .emptyName)) }
    guard let name = String(validating: nameBytes, as: UTF8.self) else {
      return .failure(.init(problem: .invalidUTF8))
    }
    func get(_ at: Int) -> UInt32 {
      var v: UInt32 = 0
      for k in 0..<4 {
        let shift = order == .little ? 8 * k : 8 * (3 - k)
        v |= UInt32(bytes[at + k]) << shift
      }
      return v
    }
    return .success(Announcement(name: name, address: EndpointAddress(get(32)),
                                 isDestroy: get(36) & 1 != 0))
  }

  /// Carries a ``NameServiceProblem`` through `Result`.
  public struct NameServiceProblemError: Error, Hashable, Sendable {
    public var problem: NameServiceProblem
  }
}
