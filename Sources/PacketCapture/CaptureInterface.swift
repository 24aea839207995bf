/// A pcapng link type. Wire: the `LinkType` field of an Interface Description Block.
public struct LinkType: RawRepresentable, Hashable, Sendable {
  public var rawValue: UInt16
  public init(rawValue: UInt16) { self.rawValue = rawValue }

  /// `LINKTYPE_USER0` (147), what rpmsg captures use: each packet is an
  /// ``RPMsgPseudoHeader`` followed by the message payload. `docs/rpmsg.lua` dissects it.
  public static let user0 = LinkType(rawValue: 147)
  /// `LINKTYPE_WIRESHARK_UPPER_PDU` (252), Wireshark's exported-PDU encapsulation.
  public static let wiresharkUpperPDU = LinkType(rawValue: 252)
}

/// How finely an interface's timestamps are counted. Wire: the `if_tsresol` option
/// (a power of ten: 6 for microseconds, 9 for nanoseconds).
public enum TimestampResolution: UInt8, Hashable, Sendable {
  case microseconds = 6
  case nanoseconds = 9

  /// Nanoseconds per unit.
  var nanosecondsPerUnit: UInt64 { self == .microseconds ? 1000 : 1 }
}

/// An interface packets are captured on: for rpmsg, one per remote processor.
/// Wire: an Interface Description Block.
public struct CaptureInterface: Hashable, Sendable {
  /// `if_name`, e.g. `remoteproc0`.
  public var name: String
  /// `if_description`, e.g. `rpmsg on an emulated mips32 core`.
  public var description: String?
  public var linkType: LinkType
  /// `SnapLen`: the most bytes of a packet kept (0: no limit).
  public var snapshotLength: UInt32
  public var timestampResolution: TimestampResolution

  public init(
    name: String, description: String? = nil, linkType: LinkType = .user0,
    snapshotLength: UInt32 = 65535, timestampResolution: TimestampResolution = .nanoseconds
  ) {
    self.name = name
    self.description = description
    self.linkType = linkType
    self.snapshotLength = snapshotLength
    self.timestampResolution = timestampResolution
  }
}

/// Which way a packet went, seen from the host. Wire: bits 0–1 of `epb_flags`.
public enum PacketDirection: UInt8, Hashable, Sendable {
  /// From the remote processor to the host (received): 01.
  case inbound = 1
  /// From the host to the remote processor (sent): 10.
  case outbound = 2
}

/// One captured packet. Wire: an Enhanced Packet Block.
public struct CapturedPacket: Hashable, Sendable {
  /// Index of the interface, in the order interfaces were added.
  public var interface: Int
  /// Nanoseconds since 1970-01-01 00:00:00 UTC (rounded down to the interface's resolution
  /// when written).
  public var timestamp: UInt64
  public var direction: PacketDirection?
  /// The captured bytes (for `LINKTYPE_USER0`: pseudo-header then payload).
  public var data: [UInt8]
  /// The packet's length before any snapshot-length cut.
  public var originalLength: Int
  /// `opt_comment`.
  public var comment: String?

  public init(
    interface: Int, timestamp: UInt64, direction: PacketDirection?, data: [UInt8],
    originalLength: Int? = nil, comment: String? = nil
  ) {
    self.interface = interface
    self.timestamp = timestamp
    self.direction = direction
    self.data = data
    self.originalLength = originalLength ?? data.count
    self.comment = comment
  }
}
