import Foundation
import Synchronization

/// Writes a pcapng file that Wireshark, `tshark` and `capinfos` open: a Section Header
/// Block, an Interface Description Block per ``CaptureInterface``, and an Enhanced Packet
/// Block per packet, all in this host's byte order.
///
/// For rpmsg, add one interface per remote processor (link type `LINKTYPE_USER0`) and call
/// ``writeMessage(interface:direction:source:destination:flags:payload:timestamp:)``; each
/// packet is then an ``RPMsgPseudoHeader`` and the payload, which `docs/rpmsg.lua` dissects.
///
/// Safe to call from several threads: blocks are written whole, in call order.
public final class PacketCaptureWriter: Sendable {
  private struct State {
    var file: FileHandle?
    var interfaces: [CaptureInterface] = []
  }

  private let state: Mutex<State>
  private let clock = CaptureClock()
  /// Where the capture is written.
  public let path: String

  /// Creates (or truncates) the file at `path` and writes the Section Header Block.
  /// - Parameter application: `shb_userappl`, e.g. `rprocd 0.1`.
  public init(path: String, application: String = "swift-remoteproc") throws(PacketCaptureError) {
    guard FileManager.default.createFile(atPath: path, contents: nil),
      let file = FileHandle(forWritingAtPath: path)
    else {
      throw PacketCaptureError(.io, "cannot create capture file \(path)")
    }
    self.path = path
    self.state = Mutex(State(file: file))
    try append(Self.sectionHeader(application: application))
  }

  /// Adds an interface and returns its index for ``write(_:)``.
  @discardableResult
  public func addInterface(_ interface: CaptureInterface) throws(PacketCaptureError) -> Int {
    var encoder = BlockEncoder()
    encoder.append(interface.linkType.rawValue)
    encoder.append(UInt16(0))
    encoder.append(interface.snapshotLength)
    encoder.appendOption(BlockEncoder.Option.interfaceName, BlockEncoder.optionText(interface.name))
    if let description = interface.description {
      encoder.appendOption(
        BlockEncoder.Option.interfaceDescription, BlockEncoder.optionText(description))
    }
    encoder.appendOption(
      BlockEncoder.Option.timestampResolution, [interface.timestampResolution.rawValue])
    let block = encoder.block(.interfaceDescription)
    return try state.withLock { state throws(PacketCaptureError) -> Int in
      try Self.write(block, to: state.file, path)
      state.interfaces.append(interface)
      return state.interfaces.count - 1
    }
  }

  /// Writes one packet. Its data is cut to the interface's snapshot length.
  public func write(_ packet: CapturedPacket) throws(PacketCaptureError) {
    try state.withLock { state throws(PacketCaptureError) in
      guard state.interfaces.indices.contains(packet.interface) else {
        throw PacketCaptureError(
          .invalidArgument,
          "packet for interface \(packet.interface), but \(state.interfaces.count) were added")
      }
      let interface = state.interfaces[packet.interface]
      try Self.write(Self.enhancedPacket(packet, interface), to: state.file, path)
    }
  }

  /// Writes one rpmsg message: the pseudo-header and `payload`, stamped now unless
  /// `timestamp` (nanoseconds since the Unix epoch) is given.
  public func writeMessage(
    interface: Int, direction: PacketDirection, source: UInt32, destination: UInt32,
    flags: UInt16 = 0, payload: [UInt8], timestamp: UInt64? = nil
  ) throws(PacketCaptureError) {
    let header = RPMsgPseudoHeader(
      direction: direction, source: source, destination: destination, flags: flags)
    try write(
      CapturedPacket(
        interface: interface, timestamp: timestamp ?? clock.now, direction: direction,
        data: header.bytes + payload))
  }

  /// Flushes and closes the file; later writes throw ``PacketCaptureError/Code/closed``.
  public func close() throws(PacketCaptureError) {
    let file = state.withLock { state in
      defer { state.file = nil }
      return state.file
    }
    do {
      try file?.synchronize()
      try file?.close()
    } catch {
      throw PacketCaptureError(.io, "closing \(path): \(error)")
    }
  }

  private func append(_ block: [UInt8]) throws(PacketCaptureError) {
    try state.withLock { state throws(PacketCaptureError) in try Self.write(block, to: state.file, path) }
  }

  private static func write(
    _ block: [UInt8], to file: FileHandle?, _ path: String
  ) throws(PacketCaptureError) {
    guard let file else { throw PacketCaptureError(.closed, "capture \(path) is closed") }
    do {
      try file.write(contentsOf: Data(block))
    } catch {
      throw PacketCaptureError(.io, "writing \(block.count) bytes to \(path): \(error)")
    }
  }

  static func sectionHeader(application: String) -> [UInt8] {
    var encoder = BlockEncoder()
    encoder.append(BlockEncoder.byteOrderMagic)
    encoder.append(UInt16(1))  // major version
    encoder.append(UInt16(0))  // minor version
    encoder.append(Int64(-1))  // section length: not given
    encoder.appendOption(BlockEncoder.Option.operatingSystem, "Linux")
    encoder.appendOption(BlockEncoder.Option.userApplication, BlockEncoder.optionText(application))
    return encoder.block(.sectionHeader)
  }

  static func enhancedPacket(_ packet: CapturedPacket, _ interface: CaptureInterface) -> [UInt8] {
    let limit = interface.snapshotLength == 0 ? Int.max : Int(interface.snapshotLength)
    let data = Array(packet.data.prefix(limit))
    let units = packet.timestamp / interface.timestampResolution.nanosecondsPerUnit
    var encoder = BlockEncoder()
    encoder.append(UInt32(packet.interface))
    encoder.append(UInt32(truncatingIfNeeded: units >> 32))
    encoder.append(UInt32(truncatingIfNeeded: units))
    encoder.append(UInt32(data.count))
    encoder.append(UInt32(clamping: max(packet.originalLength, data.count)))
    encoder.append(data)
    if let direction = packet.direction {
      var flags = BlockEncoder()
      flags.append(UInt32(direction.rawValue))
      encoder.appendOption(BlockEncoder.Option.packetFlags, flags.body)
    }
    if let comment = packet.comment {
      encoder.appendOption(BlockEncoder.Option.comment, BlockEncoder.optionText(comment))
    }
    return encoder.block(.enhancedPacket)
  }
}
