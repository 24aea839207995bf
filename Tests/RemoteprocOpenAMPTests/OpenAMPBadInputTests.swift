import CSystemShims
import Firmware
import Foundation
import Remoteproc
import RemoteprocOpenAMP
import SharedMemory
import Testing

/// Bad configuration and bad peers are refused with the path and the numbers, and leave the
/// processor detached with nothing held open.
@Suite struct OpenAMPBadInputTests {
  static func refusal(_ configuration: OpenAMPConfiguration) -> String? {
    do {
      try configuration.validate()
      return nil
    } catch {
      #expect(error.code == .invalidConfiguration)
      #expect(throws: RemoteprocError.self) { try OpenAMPPlatform(configuration: configuration) }
      return error.message
    }
  }

  @Test func badConfigurationIsRefusedWithTheNumbers() {
    var c = OpenAMPConfiguration()
    c.sharedMemorySize = 0
    #expect(Self.refusal(c) == "sharedMemorySize 0x0 must be in 0x1...0x100000000")
    c = OpenAMPConfiguration(tableOffset: 0x7FFF4)
    #expect(
      Self.refusal(c)
        == "tableOffset 0x7fff4 must be a multiple of 4 with room for the table's 16-byte header in the 0x80000-byte file")
    c = OpenAMPConfiguration(tableOffset: 2)
    #expect(Self.refusal(c)?.hasPrefix("tableOffset 0x2 must be a multiple of 4") == true)
    c = OpenAMPConfiguration(bufferPoolOffset: 0x70000)
    #expect(
      Self.refusal(c)
        == "the rpmsg buffers [0x70000, +0x40000) must be non-empty, 16-byte aligned and inside the 0x80000-byte file")
    c = OpenAMPConfiguration(deviceAddressBase: 0xFFFF_0000)
    #expect(
      Self.refusal(c)
        == "deviceAddressBase 0xffff0000 + sharedMemorySize 0x80000 passes 2^32; the table's device addresses are 32-bit")
    c = OpenAMPConfiguration(socketPath: "/tmp/" + String(repeating: "s", count: 103))
    #expect(Self.refusal(c)?.hasSuffix("must be 1...107 bytes without NUL (it has 108)") == true)
    c = OpenAMPConfiguration(sharedMemoryPath: "")
    #expect(Self.refusal(c) == "sharedMemoryPath \"\": give a file path without NUL bytes")
  }

  /// Attaching with `configuration` fails with `code` and exactly `message`; the processor
  /// stays detached.
  func attachFails(
    _ configuration: OpenAMPConfiguration, _ code: RemoteprocError.Code, _ message: String,
    sourceLocation: SourceLocation = #_sourceLocation
  ) async throws {
    let host = try await OpenAMPHost(configuration)
    do {
      try await host.processor.boot()
      Issue.record("attached", sourceLocation: sourceLocation)
    } catch {
      #expect(error.code == code, sourceLocation: sourceLocation)
      #expect(error.message == message, sourceLocation: sourceLocation)
    }
    #expect(await host.processor.state == .detached, sourceLocation: sourceLocation)
    #expect(host.platform.sharedMemory == nil, sourceLocation: sourceLocation)
    await host.close()
  }

  @Test func nobodyListening() async throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let socket = scratch.configuration.socketPath
    try await attachFails(
      scratch.configuration, .platform,
      "cannot connect to the kick socket \(socket) (is the remote running? OpenAMP's Linux machine listens there once its shared memory is set up, and accepts one host per run): No such file or directory")
    // A socket file nobody listens on any more (OpenAMP's remote leaves it when it exits).
    let fd = rproc_unix_socket()
    defer { _ = close(fd) }
    try FileDescriptorIO.bindUnixSocket(fd, path: socket)
    try await attachFails(
      scratch.configuration, .platform,
      "cannot connect to the kick socket \(socket) (is the remote running? OpenAMP's Linux machine listens there once its shared memory is set up, and accepts one host per run): Connection refused")
  }

  @Test func aMissingOrShortFile() async throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let listener = try OpenAMPEventListener.listen(path: scratch.configuration.socketPath)
    defer { listener.close() }
    let path = scratch.configuration.sharedMemoryPath
    try await attachFails(
      scratch.configuration, .notFound, "the OpenAMP shared memory \(path): No such file or directory")
    _ = FileManager.default.createFile(atPath: path, contents: Data(count: 0x1000))
    try await attachFails(
      scratch.configuration, .platform,
      "the OpenAMP shared memory \(path): file of 4096 bytes is too small to map 0x80000 bytes at offset 0")
  }

  /// Writes `table` at offset 0 of a file of the configured size, with a listener.
  func withTable(_ table: [UInt8], _ body: (Scratch) async throws -> Void) async throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    var file = [UInt8](repeating: 0, count: scratch.configuration.sharedMemorySize)
    file.replaceSubrange(0..<table.count, with: table)
    _ = FileManager.default.createFile(atPath: scratch.configuration.sharedMemoryPath, contents: Data(file))
    let listener = try OpenAMPEventListener.listen(path: scratch.configuration.socketPath)
    defer { listener.close() }
    try await body(scratch)
  }

  @Test func noTableOrABadOne() async throws {
    try await withTable([]) { scratch in
      try await attachFails(
        scratch.configuration, .badResourceTable,
        "\(scratch.configuration.sharedMemoryPath) at offset 0x0 holds no usable resource table: unsupported resource table version 0 at 0x0, expected 1 (has the remote written it? OpenAMP's remote writes it before it listens on \(scratch.configuration.socketPath))")
    }
    var table = OpenAMPRemote.TableOptions().build()
    table[45] = 3  // three vrings
    try await withTable(table) { scratch in
      try await attachFails(
        scratch.configuration, .badResourceTable,
        "\(scratch.configuration.sharedMemoryPath) at offset 0x0 holds no usable resource table: entry 0 at 0x14 (vdev): too many vrings: 3, at most 2 (has the remote written it? OpenAMP's remote writes it before it listens on \(scratch.configuration.socketPath))")
    }
  }

  @Test func vringsOutsideTheFileOrOverEachOtherOrTheBuffers() async throws {
    let at = { (s: Scratch) in "\(s.configuration.sharedMemoryPath) at offset 0x0" }
    try await withTable(OpenAMPRemote.TableOptions(vringAddresses: [0x4000, 0x7F000]).build()) { scratch in
      try await attachFails(
        scratch.configuration, .badResourceTable,
        "\(at(scratch)): vdev 0 (entry 0) vring 1 at da 0x7f000 (+0x2806) is outside the file's device addresses [0x0, +0x80000)")
    }
    try await withTable(OpenAMPRemote.TableOptions(vringAddresses: [0x4000, 0x10000]).build()) { scratch in
      try await attachFails(
        scratch.configuration, .badResourceTable,
        "\(at(scratch)): vdev 0 (entry 0) vring 1 at da 0x10000 (+0x2806) overlaps the rpmsg buffers [0x10000, 0x50000)")
    }
    try await withTable(OpenAMPRemote.TableOptions(vringAddresses: [0x4000, 0x5000]).build()) { scratch in
      try await attachFails(
        scratch.configuration, .badResourceTable,
        "\(at(scratch)): vdev 0 (entry 0) vring 1 at da 0x5000 (+0x2806) overlaps vdev 0 (entry 0) vring 0 [0x4000, 0x6806)")
    }
    try await withTable(OpenAMPRemote.TableOptions(vringAddresses: [0xFFFF_FFFF, 0x8000]).build()) { scratch in
      try await attachFails(
        scratch.configuration, .badResourceTable,
        "\(at(scratch)): vdev 0 (entry 0) vring 0 asks the host to choose its address; a running remote's vrings must be fixed")
    }
  }

  @Test func aRemoteRefusesATableThatDoesNotFit() throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    func refusal(_ options: OpenAMPRemote.TableOptions) -> String? {
      do {
        _ = try OpenAMPRemote(configuration: scratch.configuration, table: options)
        return nil
      } catch {
        return error.message
      }
    }
    #expect(
      refusal(.init(vringAddresses: [0x4000, 0x10000]))
        == "vring 1 at da 0x10000 (+0x2806) overlaps the rpmsg buffers [0x10000, 0x50000)")
    #expect(
      refusal(.init(vringAddresses: [0x4000, 0x5000]))
        == "vring 1 at da 0x5000 (+0x2806) overlaps vring 0 at da 0x4000 (+0x2806) [0x4000, 0x6806)")
    #expect(
      refusal(.init(vringAddresses: [0x0, 0x8000]))
        == "vring 0 at da 0x0 (+0x2806) overlaps the resource table [0x0, 0x58)")
    #expect(
      refusal(.init(vringAddresses: [0x4000, 0x7F000]))
        == "vring 1 at da 0x7f000 (+0x2806) is outside the file's device addresses [0x0, +0x80000)")
    #expect(refusal(.init(vringCount: 100))?.hasPrefix("vrings of 100 entries aligned to 0x1000: ") == true)
    #expect(refusal(.init(vringAddresses: [0x4000])) == "rpmsg needs 2 vrings: give 2 vringAddresses and 2 vringNotifyIDs (got 1 and 2)")
    // Nothing was created for the refused ones.
    #expect(!FileManager.default.fileExists(atPath: scratch.configuration.socketPath))
  }
}
