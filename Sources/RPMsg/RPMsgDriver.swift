/// A host-side (or remote-side) service driver, bound to the channels whose name it lists.
/// Linux: `struct rpmsg_driver` (`id_table`, `probe`, `callback`, `remove`).
///
/// `probe` and `receive` run on the bus's receive path when a channel is announced or a
/// message arrives (or on the registering thread for channels that already exist): keep
/// them short, never block. They may send, create endpoints and hold buffers.
public protocol RPMsgDriver: AnyObject, Sendable {
  /// The channel names this driver binds to. Linux: `id_table`.
  var serviceNames: [String] { get }
  /// A matching channel appeared; its default endpoint exists. Throw to refuse it.
  func probe(_ channel: RPMsgChannel) throws(RPMsgError)
  /// A message reached the channel's default endpoint. Linux: `rpmsg_driver.callback`.
  func receive(_ message: inout RPMsgReceivedMessage, on channel: RPMsgChannel)
  /// The channel went away (the remote destroyed the service, the bus was reset, or the
  /// driver was unregistered). Linux: `rpmsg_driver.remove`.
  func remove(_ channel: RPMsgChannel, reason: RPMsgRemovalReason)
}

extension RPMsgDriver {
  public func remove(_ channel: RPMsgChannel, reason: RPMsgRemovalReason) {}
}

/// Why a channel's driver lost it.
public enum RPMsgRemovalReason: Hashable, Sendable {
  /// The peer sent a name-service destroy for it.
  case serviceDestroyed
  /// The bus was reset (remote stopped or crashed). The channel comes back if the
  /// restarted firmware announces it again.
  case reset
  /// The driver was unregistered.
  case driverUnregistered
}

/// A name-service announcement from the peer.
public struct RPMsgAnnouncement: Hashable, Sendable {
  /// The service name. Wire: `rpmsg_ns_msg.name`.
  public var name: String
  /// The peer's endpoint address. Wire: `rpmsg_ns_msg.addr`.
  public var address: EndpointAddress

  public init(name: String, address: EndpointAddress) {
    self.name = name
    self.address = address
  }
}
