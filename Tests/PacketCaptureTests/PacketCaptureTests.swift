import Foundation
import PacketCapture
import Testing

/// Writes captures and reads them back with our reader, and with `capinfos` and `tshark`
/// (plus `docs/rpmsg.lua`) when Wireshark's tools are installed.
@Suite struct PacketCaptureTests {
  static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent()
  static let dissector = root.appendingPathComponent("docs/rpmsg.lua").path
  static let wiresharkInstalled =
    FileManager.default.isExecutableFile(atPath: "/usr/bin/tshark")
    && FileManager.default.isExecutableFile(atPath: "/usr/bin/capinfos")

  /// A name-service announcement of `rpmsg-raw` at 1024 (struct rpmsg_ns_msg, little-endian).
  static let announcement: [UInt8] =
    Array("rpmsg-raw".utf8) + [UInt8](repeating: 0, count: 23) + [0x00, 0x04, 0, 0] + [0, 0, 0, 0]

  /// Writes a capture of two processors and returns its path; the caller removes it.
  static func writeSample(resolution: TimestampResolution = .nanoseconds) throws -> String {
    let path = NSTemporaryDirectory() + "capture-\(UUID().uuidString).pcapng"
    let capture = try PacketCaptureWriter(path: path, application: "rprocd-test")
    let first = try capture.addInterface(
      CaptureInterface(name: "remoteproc0", description: "rpmsg on mips32", timestampResolution: resolution))
    let second = try capture.addInterface(CaptureInterface(name: "remoteproc1", timestampResolution: resolution))
    try capture.writeMessage(
      interface: first, direction: .inbound, source: 1024, destination: 53, payload: announcement,
      timestamp: 1_700_000_000_123_456_789)
    try capture.writeMessage(
      interface: first, direction: .outbound, source: 1025, destination: 1024, payload: Array("hello".utf8),
      timestamp: 1_700_000_000_223_456_789)
    try capture.writeMessage(
      interface: second, direction: .inbound, source: 1024, destination: 1025, flags: 0x12,
      payload: [0x00, 0xFF, 0x10], timestamp: 1_700_000_001_000_000_000)
    try capture.close()
    return path
  }

  static func run(_ arguments: [String]) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: arguments[0])
    process.arguments = Array(arguments.dropFirst())
    let output = Pipe()
    process.standardOutput = output
    process.standardError = FileHandle.nullDevice
    try process.run()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return String(decoding: data, as: UTF8.self)
  }

  @Test(arguments: [TimestampResolution.nanoseconds, .microseconds])
  func ourReaderReadsBackWhatWasWritten(resolution: TimestampResolution) throws {
    let path = try Self.writeSample(resolution: resolution)
    defer { try? FileManager.default.removeItem(atPath: path) }
    let file = try CaptureFile(contentsOf: path)
    #expect(file.isLittleEndian == (UInt16(littleEndian: 1) == 1))
    #expect(file.application == "rprocd-test")
    #expect(file.interfaces.map(\.name) == ["remoteproc0", "remoteproc1"])
    #expect(file.interfaces[0].description == "rpmsg on mips32")
    #expect(file.interfaces.allSatisfy { $0.linkType == .user0 && $0.timestampResolution == resolution })
    #expect(file.packets.map(\.interface) == [0, 0, 1])
    #expect(file.packets.map(\.direction) == [.inbound, .outbound, .inbound])
    let unit: UInt64 = resolution == .nanoseconds ? 1 : 1000
    #expect(file.packets[0].timestamp == 1_700_000_000_123_456_789 / unit * unit)
    let headers = try file.packets.map { try RPMsgPseudoHeader(parsing: $0.data) }
    #expect(headers.map(\.source) == [1024, 1025, 1024])
    #expect(headers.map(\.destination) == [53, 1024, 1025])
    #expect(headers[2].flags == 0x12)
    #expect(Array(file.packets[1].data.dropFirst(16)) == Array("hello".utf8))
    #expect(file.packets[2].data.count == 16 + 3)
  }

  @Test func pseudoHeaderIsBigEndianAsDocumented() throws {
    let header = RPMsgPseudoHeader(direction: .outbound, source: 0x0102_0304, destination: 53, flags: 0xA0B)
    #expect(header.bytes == [1, 2, 0x0A, 0x0B, 1, 2, 3, 4, 0, 0, 0, 53, 0, 0, 0, 0])
    #expect(try RPMsgPseudoHeader(parsing: header.bytes) == header)
    #expect(throws: PacketCaptureError.self) { try RPMsgPseudoHeader(parsing: Array(header.bytes.prefix(15))) }
  }

  @Test func everyCutThatIsNotABlockBoundaryIsRefused() throws {
    let path = try Self.writeSample()
    defer { try? FileManager.default.removeItem(atPath: path) }
    let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
    var boundaries: Set<Int> = [bytes.count]
    var offset = 0
    while offset < bytes.count {
      let length = bytes[offset + 4..<offset + 8].reversed().reduce(0) { $0 << 8 | Int($1) }
      offset += length
      boundaries.insert(offset)
    }
    for cut in 0..<bytes.count where !boundaries.contains(cut) {
      #expect(throws: PacketCaptureError.self, "cut at \(cut)") { try CaptureFile(bytes: Array(bytes.prefix(cut))) }
    }
    // A cut at a block boundary is a shorter valid capture.
    for cut in boundaries where cut > 0 {
      _ = try CaptureFile(bytes: Array(bytes.prefix(cut)))
    }
  }

  @Test func aPacketForAnUnknownInterfaceOrAClosedWriterIsRefused() throws {
    let path = NSTemporaryDirectory() + "capture-\(UUID().uuidString).pcapng"
    defer { try? FileManager.default.removeItem(atPath: path) }
    let capture = try PacketCaptureWriter(path: path)
    #expect { try capture.writeMessage(interface: 0, direction: .inbound, source: 1, destination: 2, payload: []) } throws: {
      ($0 as? PacketCaptureError)?.code == .invalidArgument
    }
    try capture.close()
    #expect { try capture.addInterface(CaptureInterface(name: "remoteproc0")) } throws: {
      ($0 as? PacketCaptureError)?.code == .closed
    }
    #expect(try CaptureFile(contentsOf: path).packets.isEmpty)
  }

  @Test func snapshotLengthCutsPacketsButKeepsTheOriginalLength() throws {
    let path = NSTemporaryDirectory() + "capture-\(UUID().uuidString).pcapng"
    defer { try? FileManager.default.removeItem(atPath: path) }
    let capture = try PacketCaptureWriter(path: path)
    let interface = try capture.addInterface(CaptureInterface(name: "remoteproc0", snapshotLength: 20))
    try capture.writeMessage(interface: interface, direction: .outbound, source: 1, destination: 2, payload: Array(repeating: 7, count: 100))
    try capture.close()
    let packet = try #require(try CaptureFile(contentsOf: path).packets.first)
    #expect(packet.data.count == 20)
    #expect(packet.originalLength == 116)
  }

  @Test(.enabled(if: wiresharkInstalled, "capinfos/tshark not installed (apt-get install tshark): Wireshark check skipped"))
  func capinfosReadsTheFile() throws {
    let path = try Self.writeSample()
    defer { try? FileManager.default.removeItem(atPath: path) }
    let info = try Self.run(["/usr/bin/capinfos", "-c", "-E", "-T", "-r", path])
    #expect(info.contains("\t3\n") || info.hasSuffix("\t3"), "\(info)")
    let details = try Self.run(["/usr/bin/capinfos", path])
    #expect(details.contains("pcapng"))
    #expect(details.contains("Encapsulation = USER 0"))
    #expect(details.contains("Number of packets:   3"))
    #expect(details.contains("nanoseconds"))
  }

  @Test(.enabled(if: wiresharkInstalled, "tshark not installed (apt-get install tshark): Wireshark check skipped"))
  func tsharkDissectsTheMessagesWithTheShippedLuaDissector() throws {
    let path = try Self.writeSample()
    defer { try? FileManager.default.removeItem(atPath: path) }
    let fields = try Self.run([
      "/usr/bin/tshark", "-n", "-r", path, "-X", "lua_script:\(Self.dissector)", "-T", "fields", "-E", "separator=|",
      "-e", "frame.interface_name", "-e", "frame.packet_flags_direction", "-e", "frame.time_epoch",
      "-e", "rpmsg.direction", "-e", "rpmsg.src", "-e", "rpmsg.dst", "-e", "rpmsg.flags",
      "-e", "rpmsg.len", "-e", "rpmsg.text", "-e", "rpmsg.ns.name", "-e", "rpmsg.ns.addr",
    ])
    let lines = fields.split(separator: "\n").map(String.init)
    #expect(lines == [
      "remoteproc0|0x00000001|1700000000.123456789|1|1024|53|0x0000|40||rpmsg-raw|1024",
      "remoteproc0|0x00000002|1700000000.223456789|2|1025|1024|0x0000|5|hello||",
      "remoteproc1|0x00000001|1700000001.000000000|1|1024|1025|0x0012|3|||",
    ])
  }
}
