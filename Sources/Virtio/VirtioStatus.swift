/// The virtio device status byte. Wire: `fw_rsc_vdev.status`, bits `VIRTIO_CONFIG_S_*`
/// (include/uapi/linux/virtio_config.h). Written by the driver (the host); the device
/// (the remote) polls it.
public struct VirtioStatus: OptionSet, Hashable, Sendable, CustomStringConvertible {
  public let rawValue: UInt8
  public init(rawValue: UInt8) { self.rawValue = rawValue }

  /// The driver found the device. Wire: `VIRTIO_CONFIG_S_ACKNOWLEDGE` (1).
  public static let acknowledge = VirtioStatus(rawValue: 1)
  /// The driver knows how to drive it. Wire: `VIRTIO_CONFIG_S_DRIVER` (2).
  public static let driver = VirtioStatus(rawValue: 2)
  /// The driver is ready: rings and buffers are set up. Wire: `VIRTIO_CONFIG_S_DRIVER_OK` (4).
  public static let driverOK = VirtioStatus(rawValue: 4)
  /// Features are final. Wire: `VIRTIO_CONFIG_S_FEATURES_OK` (8); remoteproc virtio is
  /// legacy and never sets it.
  public static let featuresOK = VirtioStatus(rawValue: 8)
  /// The device needs a reset. Wire: `VIRTIO_CONFIG_S_NEEDS_RESET` (0x40).
  public static let needsReset = VirtioStatus(rawValue: 0x40)
  /// The driver gave up on the device. Wire: `VIRTIO_CONFIG_S_FAILED` (0x80).
  public static let failed = VirtioStatus(rawValue: 0x80)

  public var description: String { "0x" + String(rawValue, radix: 16) }
}

/// Feature bits of a remoteproc vdev (32 bits: `dfeatures`/`gfeatures`). Device-specific
/// bits share numbers, so each constant says which device it belongs to.
public struct VirtioFeatures: OptionSet, Hashable, Sendable, CustomStringConvertible {
  public let rawValue: UInt32
  public init(rawValue: UInt32) { self.rawValue = rawValue }

  /// rpmsg: the remote has a name service. Wire: `VIRTIO_RPMSG_F_NS` (bit 0).
  public static let rpmsgNameService = VirtioFeatures(rawValue: 1 << 0)
  /// console: `cols`/`rows` in config space are valid. Wire: `VIRTIO_CONSOLE_F_SIZE` (bit 0).
  public static let consoleSize = VirtioFeatures(rawValue: 1 << 0)
  /// console: several ports and a control queue. Wire: `VIRTIO_CONSOLE_F_MULTIPORT` (bit 1).
  public static let consoleMultiport = VirtioFeatures(rawValue: 1 << 1)
  /// console: `emerg_wr` in config space. Wire: `VIRTIO_CONSOLE_F_EMERG_WRITE` (bit 2).
  public static let consoleEmergencyWrite = VirtioFeatures(rawValue: 1 << 2)
  /// Indirect descriptor tables. Wire: `VIRTIO_RING_F_INDIRECT_DESC` (bit 28); never
  /// accepted here.
  public static let indirectDescriptors = VirtioFeatures(rawValue: 1 << 28)
  /// `used_event`/`avail_event` notification suppression. Wire: `VIRTIO_RING_F_EVENT_IDX`
  /// (bit 29).
  public static let eventIndex = VirtioFeatures(rawValue: 1 << 29)

  public var description: String { "0x" + String(rawValue, radix: 16) }
}
