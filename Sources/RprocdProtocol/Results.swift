import Foundation

/// `list`'s answer.
public struct ProcessorList: Codable, Hashable, Sendable {
  public var processors: [ProcessorSummary]
  public init(processors: [ProcessorSummary]) { self.processors = processors }
}

/// `status`'s answer.
public struct StatusList: Codable, Hashable, Sendable {
  public var processors: [ProcessorStatus]
  public init(processors: [ProcessorStatus]) { self.processors = processors }
}

/// `channels`' answer.
public struct ChannelList: Codable, Hashable, Sendable {
  public var channels: [ChannelInfo]
  public init(channels: [ChannelInfo]) { self.channels = channels }
}

/// `coredumps`' answer.
public struct CoredumpList: Codable, Hashable, Sendable {
  public var coredumps: [CoredumpInfo]
  public init(coredumps: [CoredumpInfo]) { self.coredumps = coredumps }
}

/// `read`'s and `write`'s answer: the attribute's text as sysfs shows it (newline included).
public struct AttributeValue: Codable, Hashable, Sendable {
  public var value: String
  public init(value: String) { self.value = value }
}

/// `trace`'s answer.
public struct TraceText: Codable, Hashable, Sendable {
  public var index: Int
  public var text: String
  public init(index: Int, text: String) {
    self.index = index
    self.text = text
  }
}

/// A message: who sent it, to whom, and its bytes.
public struct MessageRecord: Codable, Hashable, Sendable {
  public var source: UInt32
  public var destination: UInt32
  public var payload: Data

  public init(source: UInt32, destination: UInt32, payload: Data) {
    self.source = source
    self.destination = destination
    self.payload = payload
  }
}

/// `send`'s answer.
public struct SendResult: Codable, Hashable, Sendable {
  /// The temporary endpoint the message left from.
  public var source: UInt32
  public var destination: UInt32
  /// The first message that came back to it, when `reply` was asked.
  public var reply: MessageRecord?

  public init(source: UInt32, destination: UInt32, reply: MessageRecord?) {
    self.source = source
    self.destination = destination
    self.reply = reply
  }
}

/// `endpoint-open`'s answer.
public struct EndpointOpened: Codable, Hashable, Sendable {
  /// The handle for `endpoint-send`, `endpoint-close` and `message` events.
  public var endpoint: Int
  public var processor: String
  /// The endpoint's rpmsg address.
  public var address: UInt32
  /// Where its messages go by default (4294967295, RPMSG_ADDR_ANY, when unbound).
  public var destination: UInt32

  public init(endpoint: Int, processor: String, address: UInt32, destination: UInt32) {
    self.endpoint = endpoint
    self.processor = processor
    self.address = address
    self.destination = destination
  }
}

/// `monitor`'s answer.
public struct MonitorStarted: Codable, Hashable, Sendable {
  /// The handle for `unmonitor` and `traffic` events.
  public var monitor: Int
  public var processor: String
  /// "rpmsg on emulated mips32", for a capture's interface description.
  public var description: String

  public init(monitor: Int, processor: String, description: String) {
    self.monitor = monitor
    self.processor = processor
    self.description = description
  }
}

/// A message reached an open endpoint: `{"event": "message", …}`.
public struct MessageEvent: Codable, Hashable, Sendable {
  public var event = "message"
  public var endpoint: Int
  public var source: UInt32
  public var destination: UInt32
  public var payload: Data
  /// Messages for this endpoint dropped before this one because the client read too slowly.
  public var dropped: Int

  public init(endpoint: Int, source: UInt32, destination: UInt32, payload: Data, dropped: Int) {
    self.endpoint = endpoint
    self.source = source
    self.destination = destination
    self.payload = payload
    self.dropped = dropped
  }
}

/// A message to or from a monitored processor: `{"event": "traffic", …}`.
public struct TrafficEvent: Codable, Hashable, Sendable {
  public var event = "traffic"
  public var monitor: Int
  /// Nanoseconds since the Unix epoch.
  public var timeNs: UInt64
  /// `in` (remote → host) or `out` (host → remote).
  public var direction: String
  public var source: UInt32
  public var destination: UInt32
  /// The rpmsg header's flags.
  public var flags: UInt16
  public var payload: Data
  /// Messages dropped before this one because the client read too slowly.
  public var dropped: Int

  public init(
    monitor: Int, timeNs: UInt64, direction: String, source: UInt32, destination: UInt32, flags: UInt16,
    payload: Data, dropped: Int
  ) {
    self.monitor = monitor
    self.timeNs = timeNs
    self.direction = direction
    self.source = source
    self.destination = destination
    self.flags = flags
    self.payload = payload
    self.dropped = dropped
  }
}

/// An endpoint ended without the client closing it (the remote stopped or crashed):
/// `{"event": "endpoint-closed", …}`.
public struct EndpointClosedEvent: Codable, Hashable, Sendable {
  public var event = "endpoint-closed"
  public var endpoint: Int
  public var reason: String

  public init(endpoint: Int, reason: String) {
    self.endpoint = endpoint
    self.reason = reason
  }
}
