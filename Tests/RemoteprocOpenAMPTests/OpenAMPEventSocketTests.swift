import CSystemShims
import Foundation
import RemoteprocOpenAMP
import SharedMemory
import Testing

/// The kick wire of OpenAMP's Linux machine: one byte of value 1 per kick, both ways on one
/// stream connection; the end of the stream is the peer going away.
@Suite struct OpenAMPEventSocketTests {
  /// A listener and a connected pair of ends.
  static func pair(_ scratch: Scratch) async throws -> (OpenAMPEventListener, host: OpenAMPEventSocket, remote: OpenAMPEventSocket) {
    let listener = try OpenAMPEventListener.listen(path: scratch.configuration.socketPath)
    let host = try await OpenAMPEventSocket.connect(path: scratch.configuration.socketPath)
    let remote = try #require(try listener.accept(timeoutMilliseconds: 5000))
    return (listener, host, remote)
  }

  @Test func aKickIsTheByteOneAndEveryByteWaitingIsTaken() async throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let (listener, host, remote) = try await Self.pair(scratch)
    defer { listener.close() }
    #expect(host.ring())
    #expect(remote.wait(timeoutMilliseconds: 5000) == .kicks(1))
    #expect(remote.wait(timeoutMilliseconds: 0) == .timedOut)
    for _ in 0..<3 { remote.ring() }
    try await eventually("three bytes") {
      // What OpenAMP's interrupt handler reads: up to 32 bytes, all of them 1.
      if case .kicks(let n) = host.wait(timeoutMilliseconds: 100) { return n == 3 }
      return false
    }
    host.close()
    #expect(remote.wait(timeoutMilliseconds: 5000) == .closed)
    #expect(!remote.ring() || remote.wait(timeoutMilliseconds: 0) == .closed)
  }

  @Test func theBytesOnTheWireAreOnesAndAnyByteIsAKick() async throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let listener = try OpenAMPEventListener.listen(path: scratch.configuration.socketPath)
    defer { listener.close() }
    // A plain client, as OpenAMP's sk_unix_client makes it.
    let fd = rproc_unix_socket()
    try #require(fd >= 0)
    defer { _ = close(fd) }
    try FileDescriptorIO.connectUnixSocket(fd, path: scratch.configuration.socketPath)
    let remote = try #require(try listener.accept(timeoutMilliseconds: 5000))
    remote.ring()
    remote.ring()
    var bytes: [UInt8] = []
    while bytes.count < 2 { bytes += try FileDescriptorIO.read(fd, upTo: 32) }
    #expect(bytes == [1, 1])
    // OpenAMP's handler reads and ignores the bytes' values.
    try FileDescriptorIO.writeAll(fd, [0x42, 0x00, 0xFF])
    var total = 0
    while total < 3, case .kicks(let n) = remote.wait(timeoutMilliseconds: 5000) { total += n }
    #expect(total == 3)
  }

  @Test func ringingNeverBlocksWhenThePeerDoesNotRead() async throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let (listener, host, remote) = try await Self.pair(scratch)
    defer { listener.close() }
    // Far more than a socket buffer holds: the extra kicks are dropped, not waited for.
    for _ in 0..<100_000 { #expect(host.ring()) }
    if case .kicks(let n) = remote.wait(timeoutMilliseconds: 5000) { #expect(n > 0) } else { Issue.record("no kicks") }
  }

  @Test func stopWakesAnAcceptAndRemovesTheSocketFile() throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let listener = try OpenAMPEventListener.listen(path: scratch.configuration.socketPath)
    #expect(try listener.accept(timeoutMilliseconds: 10) == nil)
    listener.wakeUp()
    #expect(try listener.accept() == nil)
    listener.close()
    #expect(!FileManager.default.fileExists(atPath: scratch.configuration.socketPath))
  }

  @Test func aStaleSocketFileIsReplacedButNoOtherFile() throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let path = scratch.configuration.socketPath
    _ = FileManager.default.createFile(atPath: path, contents: Data("not a socket".utf8))
    #expect {
      try OpenAMPEventListener.listen(path: path)
    } throws: { error in
      (error as? OpenAMPError)?.message == "\(path) exists and is not a socket; refusing to replace it"
    }
    try FileManager.default.removeItem(atPath: path)
    let first = try OpenAMPEventListener.listen(path: path)
    let second = try OpenAMPEventListener.listen(path: path)  // as after a crash of the first
    second.close()
    first.close()
  }
}
