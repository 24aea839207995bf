import Foundation
import RPMsg
import RPMsgDrivers
import RprocdProtocol
import Synchronization
import SysfsFilesystem
import VirtioSerial

/// The pseudo-terminals of one processor: one per serial port (kept across reboots, as
/// the port is, and shown as `remoteprocN/serialK`) and one per rpmsg-tty channel (for as
/// long as the channel exists, shown as `rpmsg/…/tty`).
final class Terminals: Sendable {
  let processor: String
  let tree: SysfsTree
  let channels: ChannelDirectory
  let log: @Sendable (String) -> Void
  private let serial = Mutex<[Int: TerminalBridge]>([:])
  private let ttys = Mutex<[ObjectIdentifier: TerminalBridge]>([:])

  init(processor: String, tree: SysfsTree, channels: ChannelDirectory, log: @escaping @Sendable (String) -> Void) {
    self.processor = processor
    self.tree = tree
    self.channels = channels
    self.log = log
  }

  /// A new serial port (vdev `vdev`): its terminal.
  func openSerial(_ port: VirtioSerialPort, vdev: Int) {
    let bridge: TerminalBridge
    do {
      bridge = try TerminalBridge(label: "\(processor) serial\(vdev)") { bytes in
        // Typed while the remote is down, or not taken within 15 s: dropped, as a UART would.
        try? await port.write(bytes, timeout: .seconds(15))
      }
    } catch {
      return log(error.message)
    }
    serial.withLock { $0[vdev] = bridge }
    try? tree.addFile("\(processor)/serial\(vdev)", .constant(bridge.path + "\n"))
    log("\(processor): serial port \(vdev) on \(bridge.path)")
  }

  /// Bytes the remote sent on serial port `vdev`.
  func serialReceived(vdev: Int, _ bytes: [UInt8]) {
    serial.withLock { $0[vdev] }?.output(bytes)
  }

  /// A new rpmsg-tty channel: its terminal, until the channel goes.
  func openTTY(_ port: RPMsgTTYPort) {
    let channel = port.channel
    let bridge: TerminalBridge
    do {
      bridge = try TerminalBridge(label: "\(processor) \(channel.name)") { bytes in
        try? await port.write(bytes)
      }
    } catch {
      return log(error.message)
    }
    ttys.withLock { $0[ObjectIdentifier(channel)] = bridge }
    channels.setTerminal(bridge.path, for: channel)
    log("\(processor): \(channel.name) channel \(channel.destination.rawValue) on \(bridge.path)")
    Task { [self] in
      for await bytes in port.input { bridge.output(bytes) }
      bridge.close()
      ttys.withLock { _ = $0.removeValue(forKey: ObjectIdentifier(channel)) }
      channels.setTerminal(nil, for: channel)
    }
  }

  var serialPorts: [SerialPortInfo] {
    serial.withLock { $0.map { SerialPortInfo(vdev: $0.key, tty: $0.value.path) } }.sorted { $0.vdev < $1.vdev }
  }

  /// Closes every terminal (the daemon is stopping).
  func closeAll() {
    for bridge in serial.withLock({ Array($0.values) }) + ttys.withLock({ Array($0.values) }) { bridge.close() }
  }
}
