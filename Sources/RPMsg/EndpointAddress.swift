/// An rpmsg endpoint address: the 32-bit `src`/`dst` of every message.
public struct EndpointAddress: RawRepresentable, Hashable, Sendable, Comparable,
  CustomStringConvertible
{
  public var rawValue: UInt32
  @inlinable public init(rawValue: UInt32) { self.rawValue = rawValue }
  @inlinable public init(_ rawValue: UInt32) { self.rawValue = rawValue }

  /// The name service. Linux: `RPMSG_NS_ADDR` (53).
  @inlinable public static var nameService: EndpointAddress { EndpointAddress(53) }
  /// "Any address": let the bus choose (for a new endpoint), or "unbound" (for a
  /// destination). Never valid on the wire. Linux: `RPMSG_ADDR_ANY` (0xFFFFFFFF).
  @inlinable public static var any: EndpointAddress { EndpointAddress(0xFFFF_FFFF) }
  /// Dynamic addresses start here; lower ones are reserved for fixed services.
  /// Linux: `RPMSG_RESERVED_ADDRESSES` (1024).
  @inlinable public static var firstDynamic: EndpointAddress { EndpointAddress(1024) }

  public static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }
  public var description: String { "0x" + String(rawValue, radix: 16) }
}
