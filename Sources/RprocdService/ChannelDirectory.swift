import Foundation
import RPMsg
import RprocdProtocol
import Synchronization
import SysfsFilesystem

/// The rpmsg channels of one processor's buses, as the daemon shows them: one folder per
/// channel under `rpmsg/` in the tree, named as Linux names rpmsg devices
/// (`virtio0.rpmsg-client-sample.-1.1024`: the virtio device, the service, the source as
/// Linux had it when the channel was made (-1, any) and the destination), with `name`,
/// `src`, `dst` and `announce`, plus `tty` for rpmsg-tty channels.
final class ChannelDirectory: Sendable {
  struct Record: Sendable {
    var channel: RPMsgChannel
    var vdev: Int
    var virtio: Int
    var device: String
    var tty: String?
  }

  let processor: String
  let tree: SysfsTree
  private let records = Mutex<[ObjectIdentifier: Record]>([:])
  private let buses = Mutex<[(vdev: Int, virtio: Int, bus: RPMsgBus)]>([])

  init(processor: String, tree: SysfsTree) {
    self.processor = processor
    self.tree = tree
  }

  /// Starts following a new bus of this processor (vdev `vdev`, Linux's `virtio<virtio>`).
  func follow(_ bus: RPMsgBus, vdev: Int, virtio: Int) {
    buses.withLock { $0.append((vdev, virtio, bus)) }
    // Weak: the directory keeps its buses, so a strong capture would be a cycle.
    bus.observeChannels { [weak self] event in
      switch event {
      case .added(let channel): self?.added(channel, vdev: vdev, virtio: virtio)
      case .removed(let channel, _): self?.removed(channel)
      }
    }
  }

  /// The processor's buses, by vdev index.
  var allBuses: [(vdev: Int, bus: RPMsgBus)] {
    buses.withLock { $0.sorted { $0.vdev < $1.vdev }.map { ($0.vdev, $0.bus) } }
  }

  /// Linux: `dev_set_name(&rpdev->dev, "%s.%s.%d.%d", dev_name(parent), name, src, dst)`,
  /// with `/` replaced by `!` as the driver core does.
  static func deviceName(virtio: Int, name: String, destination: EndpointAddress) -> String {
    let safe = name.replacingOccurrences(of: "/", with: "!")
    return "virtio\(virtio).\(safe.isEmpty ? "(unnamed)" : safe).-1.\(Int32(bitPattern: destination.rawValue))"
  }

  private func added(_ channel: RPMsgChannel, vdev: Int, virtio: Int) {
    let device = Self.deviceName(virtio: virtio, name: channel.name, destination: channel.destination)
    records.withLock {
      $0[ObjectIdentifier(channel)] = Record(channel: channel, vdev: vdev, virtio: virtio, device: device, tty: nil)
    }
    let folder = "rpmsg/\(device)"
    let source = channel.endpoint.address.rawValue
    let destination = channel.destination.rawValue
    try? tree.addDirectory(folder)
    // Linux: rpmsg_core.c's rpmsg_show_attr(name, "%s\n"), (src, "0x%x\n"), (dst, "0x%x\n"),
    // (announce, "true"/"false"); a channel the remote announced has announce false.
    try? tree.addFile("\(folder)/name", .constant(channel.name + "\n"))
    try? tree.addFile("\(folder)/src", .constant("0x\(String(source, radix: 16))\n"))
    try? tree.addFile("\(folder)/dst", .constant("0x\(String(destination, radix: 16))\n"))
    try? tree.addFile("\(folder)/announce", .constant("false\n"))
  }

  private func removed(_ channel: RPMsgChannel) {
    guard let record = records.withLock({ $0.removeValue(forKey: ObjectIdentifier(channel)) }) else { return }
    try? tree.remove("rpmsg/\(record.device)")
  }

  /// Records the pseudo-terminal of an rpmsg-tty channel (and shows it as `tty`).
  func setTerminal(_ path: String?, for channel: RPMsgChannel) {
    let device = records.withLock { records -> String? in
      records[ObjectIdentifier(channel)]?.tty = path
      return records[ObjectIdentifier(channel)]?.device
    }
    guard let device else { return }
    let file = "rpmsg/\(device)/tty"
    if let path {
      try? tree.addFile(file, .constant(path + "\n"))
    } else {
      try? tree.remove(file)
    }
  }

  /// The channels now, in creation order of their buses and addresses.
  var channels: [ChannelInfo] {
    records.withLock { Array($0.values) }
      .sorted { ($0.vdev, $0.channel.endpoint.address.rawValue) < ($1.vdev, $1.channel.endpoint.address.rawValue) }
      .map { record in
        ChannelInfo(
          processor: processor, vdev: record.vdev, device: record.device, name: record.channel.name,
          source: record.channel.endpoint.address.rawValue, destination: record.channel.destination.rawValue,
          announce: false, tty: record.tty)
      }
  }

  /// The channel called `name` on any bus (the first by vdev).
  func channel(named name: String) -> RPMsgChannel? {
    records.withLock { Array($0.values) }.sorted { $0.vdev < $1.vdev }.first { $0.channel.name == name }?.channel
  }
}
