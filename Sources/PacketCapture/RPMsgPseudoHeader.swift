/// The 16 bytes in front of each rpmsg payload in a `LINKTYPE_USER0` capture.
///
/// Our own format (documented in `docs/pcapng-rpmsg.md` and dissected by `docs/rpmsg.lua`),
/// in network byte order whatever the host or firmware byte order:
///
/// | offset | size | field |
/// |---|---|---|
/// | 0 | 1 | version, 1 |
/// | 1 | 1 | direction: 1 remote → host, 2 host → remote |
/// | 2 | 2 | the rpmsg header's `flags` |
/// | 4 | 4 | the rpmsg header's `src` (source endpoint address) |
/// | 8 | 4 | the rpmsg header's `dst` (destination endpoint address) |
/// | 12 | 4 | reserved, 0 |
///
/// The rpmsg header's `len` is the payload's length, so it is not repeated.
public struct RPMsgPseudoHeader: Hashable, Sendable {
  public static let byteCount = 16
  public static let version: UInt8 = 1

  public var direction: PacketDirection
  /// Wire: `struct rpmsg_hdr.src`.
  public var source: UInt32
  /// Wire: `struct rpmsg_hdr.dst`.
  public var destination: UInt32
  /// Wire: `struct rpmsg_hdr.flags`.
  public var flags: UInt16

  public init(direction: PacketDirection, source: UInt32, destination: UInt32, flags: UInt16 = 0) {
    self.direction = direction
    self.source = source
    self.destination = destination
    self.flags = flags
  }

  /// The 16 bytes, big-endian.
  public var bytes: [UInt8] {
    var out: [UInt8] = [Self.version, direction.rawValue]
    out += bigEndianBytes(flags)
    out += bigEndianBytes(source)
    out += bigEndianBytes(destination)
    out += [0, 0, 0, 0]
    return out
  }

  /// Reads the header at the start of `packet`.
  public init(parsing packet: [UInt8]) throws(PacketCaptureError) {
    guard packet.count >= Self.byteCount else {
      throw PacketCaptureError(
        .malformed, "rpmsg pseudo-header needs \(Self.byteCount) bytes, packet has \(packet.count)")
    }
    guard packet[0] == Self.version else {
      throw PacketCaptureError(.malformed, "rpmsg pseudo-header version \(packet[0]), expected 1")
    }
    guard let direction = PacketDirection(rawValue: packet[1]) else {
      throw PacketCaptureError(.malformed, "rpmsg pseudo-header direction \(packet[1]), expected 1 or 2")
    }
    func field(_ offset: Int, _ count: Int) -> UInt32 {
      packet[offset..<offset + count].reduce(0) { $0 << 8 | UInt32($1) }
    }
    self.init(
      direction: direction, source: field(4, 4), destination: field(8, 4),
      flags: UInt16(field(2, 2)))
  }
}

private func bigEndianBytes<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
  (0..<T.bitWidth / 8).reversed().map { UInt8(truncatingIfNeeded: value >> ($0 * 8)) }
}
