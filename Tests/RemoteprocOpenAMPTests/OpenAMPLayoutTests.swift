import Foundation
import RPMsg
import Remoteproc
import RemoteprocOpenAMP
import Testing

/// The bytes in the shared-memory file, read back from the file itself and checked against
/// OpenAMP's Linux machine: its `rsc_table.c` table at offset 0, vrings at 0x4000 and 0x8000,
/// rpmsg buffers at 0x10000 (receive: the first 0x20000 bytes) for 0x40000 bytes.
@Suite struct OpenAMPLayoutTests {
  /// OpenAMP's `struct remote_resource_table resources` (rsc_table.c), word by word:
  /// ver 1, num 1, reserved, offset[0] = 20; RSC_VDEV, VIRTIO_ID_RPMSG_, notifyid 0,
  /// dfeatures 1 << VIRTIO_RPMSG_F_NS, gfeatures 0, config_len 0, status 0 / num_of_vrings 2 /
  /// reserved; {RING_TX 0x4000, VRING_ALIGN 0x1000, VRING_SIZE 256, 1, 0};
  /// {RING_RX 0x8000, 0x1000, 256, 2, 0}.
  static let openAMPTable: [UInt8] = [
    1, 1, 0, 0, 20,
    3, 7, 0, 1, 0, 0, 0x0000_0200,
    0x4000, 0x1000, 256, 1, 0,
    0x8000, 0x1000, 256, 2, 0,
  ].flatMap { (word: UInt32) in (0..<4).map { UInt8(truncatingIfNeeded: word >> (8 * $0)) } }

  static func u32(_ bytes: [UInt8], _ offset: Int) -> UInt32 {
    (0..<4).reduce(0) { $0 | UInt32(bytes[offset + $1]) << (8 * $1) }
  }
  static func u16(_ bytes: [UInt8], _ offset: Int) -> UInt16 {
    UInt16(bytes[offset]) | UInt16(bytes[offset + 1]) << 8
  }
  static func u64(_ bytes: [UInt8], _ offset: Int) -> UInt64 {
    UInt64(u32(bytes, offset)) | UInt64(u32(bytes, offset + 4)) << 32
  }

  @Test func theTableIsOpenAMPsByteForByte() {
    #expect(Self.openAMPTable.count == 88)
    #expect(OpenAMPRemote.TableOptions().build() == Self.openAMPTable)
  }

  @Test func theDefaultsAreOpenAMPs() {
    let configuration = OpenAMPConfiguration()
    #expect(configuration.sharedMemoryPath == "/dev/shm/openamp.shm")
    #expect(configuration.sharedMemorySize == 0x80000)
    #expect(configuration.tableOffset == 0)
    #expect(configuration.deviceAddressBase == 0)
    #expect(configuration.bufferPoolOffset == 0x10000)
    #expect(configuration.bufferPoolSize == 0x40000)
    #expect(configuration.socketPath == "/tmp/openamp.event.0")
    #expect(throws: Never.self) { try configuration.validate() }
  }

  @Test func theRemoteCreatesTheFileWithTheTableAtOffsetZero() throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let remote = try EchoRemote(scratch.configuration)
    defer { remote.stop() }
    let path = scratch.configuration.sharedMemoryPath
    let size = try #require(try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int)
    #expect(size == 0x80000)
    let file = try #require(FileManager.default.contents(atPath: path).map { [UInt8]($0) })
    #expect(Array(file.prefix(88)) == Self.openAMPTable)
    #expect(file.dropFirst(88).allSatisfy { $0 == 0 })
    let type = try FileManager.default.attributesOfItem(atPath: scratch.configuration.socketPath)[.type]
    #expect(type as? FileAttributeType == .typeSocket)
  }

  @Test func anAttachedHostUsesTheVringsAndBuffersWhereOpenAMPPutsThem() async throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let remote = try EchoRemote(scratch.configuration)
    defer { remote.stop() }
    let host = try await OpenAMPHost(scratch.configuration)
    try await host.processor.boot()
    for text in ["a", "bb", "ccc"] {
      #expect(try await host.echo(Array(text.utf8)) == Array(text.utf8))
    }
    let carveouts = await host.processor.carveouts.map { "\($0.name) \(hex($0.deviceAddress)) \(hex($0.length))" }
    #expect(carveouts == ["vdev0vring0 0x4000 0x3000", "vdev0vring1 0x8000 0x3000", "vdev0buffer 0x10000 0x40000"])

    let path = scratch.configuration.sharedMemoryPath
    func read() -> [UInt8] { FileManager.default.contents(atPath: path).map { [UInt8]($0) } ?? [] }
    // The remote gives each buffer back after its callback, which may be after the host saw the echo.
    try await eventually("the remote to return the host's buffers") {
      let file = read()
      return file.count == 0x80000 && Self.u16(file, 0xA002) == 3
    }
    let file = read()
    // The vdev entry's payload starts at 24 (offset[0] = 20, then the 4-byte type).
    #expect(Self.u32(file, 32) == 1)  // dfeatures: the name service
    #expect(Self.u32(file, 36) == 1)  // gfeatures: what the host accepted
    #expect(file[44] == 7)  // status: ACK | DRIVER | DRIVER_OK
    #expect(Self.u32(file, 48) == 0x4000 && Self.u32(file, 52) == 0x1000 && Self.u32(file, 56) == 256)
    #expect(Self.u32(file, 68) == 0x8000 && Self.u32(file, 72) == 0x1000 && Self.u32(file, 76) == 256)

    // vring 0 (remote → host): 256 descriptors, avail ring at 0x5000, used ring at 0x6000
    // (align_up(16·256 + 2·(3 + 256), 0x1000)). The host posted every receive buffer: 512
    // bytes each, device-writable, the first half of the pool; and posts each again once read.
    #expect(Self.u16(file, 0x5002) == 256 + Self.u16(file, 0x6002))
    for i in 0..<256 {
      let descriptor = 0x4000 + 16 * i
      #expect(Self.u64(file, descriptor) == 0x10000 + 512 * UInt64(i))
      #expect(Self.u32(file, descriptor + 8) == 512)
      #expect(Self.u16(file, descriptor + 12) == 2)  // VRING_DESC_F_WRITE
    }
    // The remote announced its endpoint and echoed three messages.
    #expect(Self.u16(file, 0x6002) == 4)
    // vring 1 (host → remote): the host's three sends came from the second half of the pool.
    #expect(Self.u16(file, 0x9002) == 3)
    for i in 0..<3 {
      let address = Self.u64(file, 0x8000 + 16 * i)
      #expect(address >= 0x30000 && address < 0x50000)
      #expect(Self.u16(file, 0x8000 + 16 * i + 12) == 0)
    }

    // Detaching puts the table back as the remote published it.
    try await host.processor.detach()
    let after = try #require(FileManager.default.contents(atPath: scratch.configuration.sharedMemoryPath).map { [UInt8]($0) })
    #expect(Array(after.prefix(88)) == Self.openAMPTable)
    await host.close()
  }
}

private func hex<T: BinaryInteger>(_ value: T) -> String { "0x" + String(value, radix: 16) }
