import Foundation

/// A refusal: `code` is the errno's name as Linux spells it (`EBUSY`, `EINVAL`, `EACCES`,
/// `ENOENT`…) or a protocol code (`EPROTO`, `EMSGSIZE`, `EPROTONOSUPPORT`).
public struct ErrorInfo: Codable, Hashable, Sendable {
  public var code: String
  public var errno: Int32?
  public var message: String

  public init(code: String, errno: Int32?, message: String) {
    self.code = code
    self.errno = errno
    self.message = message
  }
}

/// The answer to a request: `{"id": N, "ok": true, "result": {…}}` or
/// `{"id": N, "ok": false, "error": {…}}`. An answer without `id` is the daemon hanging up
/// on a connection that broke the protocol.
public struct Response<Result: Codable & Sendable>: Codable, Sendable {
  public var id: Int?
  public var ok: Bool
  public var result: Result?
  public var error: ErrorInfo?

  public init(id: Int?, result: Result) {
    self.id = id
    self.ok = true
    self.result = result
  }

  public init(id: Int?, error: ErrorInfo) {
    self.id = id
    self.ok = false
    self.error = error
  }
}

/// What every incoming frame is first decoded as, to route it: a response (`id`, `ok`) or
/// an event (`event`).
public struct FrameHeader: Codable, Sendable {
  public var id: Int?
  public var ok: Bool?
  public var event: String?
  public var error: ErrorInfo?
}

/// A result without content.
public struct Empty: Codable, Hashable, Sendable {
  public init() {}
}

/// `hello`'s answer.
public struct HelloResult: Codable, Hashable, Sendable {
  /// The protocol version the daemon speaks.
  public var protocolVersion: Int
  public var daemon: String
  public var pid: Int32
  /// `admin` (may change processors and watch all traffic) or `user` (may look and use
  /// endpoints), from the peer's credentials.
  public var access: String

  public init(protocolVersion: Int, daemon: String, pid: Int32, access: String) {
    self.protocolVersion = protocolVersion
    self.daemon = daemon
    self.pid = pid
    self.access = access
  }
}

/// One processor, briefly (`list`, and the answer to start/stop/firmware).
public struct ProcessorSummary: Codable, Hashable, Sendable {
  /// `remoteprocN`.
  public var device: String
  /// The `name` attribute.
  public var name: String
  public var state: String
  public var firmware: String
  /// "emulated mips32", "process".
  public var platform: String

  public init(device: String, name: String, state: String, firmware: String, platform: String) {
    self.device = device
    self.name = name
    self.state = state
    self.firmware = firmware
    self.platform = platform
  }
}

/// A serial port offered as a pseudo-terminal.
public struct SerialPortInfo: Codable, Hashable, Sendable {
  public var vdev: Int
  /// `/dev/pts/N`.
  public var tty: String

  public init(vdev: Int, tty: String) {
    self.vdev = vdev
    self.tty = tty
  }
}

/// An rpmsg channel.
public struct ChannelInfo: Codable, Hashable, Sendable {
  public var processor: String
  public var vdev: Int
  /// The folder under `rpmsg/` in the tree (Linux's device name, `virtio0.rpmsg-tty.-1.1025`).
  public var device: String
  public var name: String
  /// The host's endpoint (Linux: `src`).
  public var source: UInt32
  /// The remote's endpoint (Linux: `dst`).
  public var destination: UInt32
  public var announce: Bool
  /// For `rpmsg-tty` channels: the pseudo-terminal, `/dev/pts/N`.
  public var tty: String?

  public init(
    processor: String, vdev: Int, device: String, name: String, source: UInt32, destination: UInt32,
    announce: Bool, tty: String?
  ) {
    self.processor = processor
    self.vdev = vdev
    self.device = device
    self.name = name
    self.source = source
    self.destination = destination
    self.announce = announce
    self.tty = tty
  }
}

/// A core dump the daemon keeps.
public struct CoredumpInfo: Codable, Hashable, Sendable {
  /// The crash it was taken for (1 for the first crash).
  public var number: Int
  /// `mmufault`, `watchdog`, `fatal error`.
  public var crash: String
  public var details: String
  public var bytes: Int

  public init(number: Int, crash: String, details: String, bytes: Int) {
    self.number = number
    self.crash = crash
    self.details = details
    self.bytes = bytes
  }
}

/// `coredump`'s answer: the ELF core.
public struct CoredumpData: Codable, Hashable, Sendable {
  public var info: CoredumpInfo
  public var data: Data

  public init(info: CoredumpInfo, data: Data) {
    self.info = info
    self.data = data
  }
}

/// One processor in detail (`status`).
public struct ProcessorStatus: Codable, Hashable, Sendable {
  public var device: String
  public var name: String
  public var state: String
  public var firmware: String
  public var platform: String
  public var recovery: String
  public var coredump: String
  public var firmwareDirectory: String
  /// What SIGTERM does: `stop` or `detach`.
  public var onExit: String
  public var crashes: Int
  public var traces: [String]
  public var serialPorts: [SerialPortInfo]
  public var channels: [ChannelInfo]
  public var coredumps: [CoredumpInfo]
  /// Clients watching its traffic (`rpmsg listen`, `rpmsg capture`).
  public var monitors: Int

  public init(
    device: String, name: String, state: String, firmware: String, platform: String, recovery: String,
    coredump: String, firmwareDirectory: String, onExit: String, crashes: Int, traces: [String],
    serialPorts: [SerialPortInfo], channels: [ChannelInfo], coredumps: [CoredumpInfo], monitors: Int
  ) {
    self.device = device
    self.name = name
    self.state = state
    self.firmware = firmware
    self.platform = platform
    self.recovery = recovery
    self.coredump = coredump
    self.firmwareDirectory = firmwareDirectory
    self.onExit = onExit
    self.crashes = crashes
    self.traces = traces
    self.serialPorts = serialPorts
    self.channels = channels
    self.coredumps = coredumps
    self.monitors = monitors
  }
}
