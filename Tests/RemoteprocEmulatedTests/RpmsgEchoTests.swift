import Foundation
import RemoteprocEmulated
import SharedMemory
import Testing

/// rpmsg framing over a HostVirtio, in the firmware's byte order (Linux virtio_rpmsg_bus).
struct HostRpmsg {
  struct Message: Equatable {
    var source: UInt32
    var destination: UInt32
    var payload: [UInt8]
  }

  let virtio: HostVirtio
  let order: ByteOrder

  init(_ host: HandHost, ordinal: Int) throws {
    order = host.machine.byteOrder
    // VIRTIO_RPMSG_F_NS and VIRTIO_RING_F_EVENT_IDX.
    virtio = try HostVirtio(host, ordinal: ordinal, bufferSize: 512, acceptedFeatures: 1 | 1 << 29)
  }

  func u32(_ bytes: ArraySlice<UInt8>) -> UInt32 {
    let value = bytes.prefix(4).reversed().reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
    return order == .little ? value : value.byteSwapped
  }

  func bytes(_ value: UInt32) -> [UInt8] {
    let wire = order == .little ? value : value.byteSwapped
    return (0..<4).map { UInt8(truncatingIfNeeded: wire >> (8 * $0)) }
  }

  /// Every message received so far, parsed (16-byte header, then `len` bytes).
  var messages: [Message] {
    virtio.received.withLock { $0 }.map { buffer in
      let raw = UInt16(buffer[12]) | UInt16(buffer[13]) << 8
      let length = Int(order == .little ? raw : raw.byteSwapped)
      return Message(
        source: u32(buffer[0...]), destination: u32(buffer[4...]),
        payload: Array(buffer.dropFirst(16).prefix(length)))
    }
  }

  /// Name-service announcements: channel name → address.
  var channels: [String: UInt32] {
    var found: [String: UInt32] = [:]
    for message in messages where message.destination == 53 && message.payload.count == 40 {
      let name = String(decoding: message.payload.prefix(32).prefix { $0 != 0 }, as: UTF8.self)
      found[name] = u32(message.payload[32...])
    }
    return found
  }

  func send(from source: UInt32, to destination: UInt32, _ payload: [UInt8]) throws {
    let length = UInt16(payload.count)
    let lengthBytes = order == .little ? [UInt8(length & 0xFF), UInt8(length >> 8)] : [UInt8(length >> 8), UInt8(length & 0xFF)]
    try virtio.send(bytes(source) + bytes(destination) + [0, 0, 0, 0] + lengthBytes + [0, 0] + payload)
  }
}

@Suite(.enabled(if: FirmwareImages.canRun), .serialized)
struct RpmsgEchoTests {
  static let images: [(example: String, machine: EmulatedMachine)] =
    EmulatedMachine.all.map { ("rpmsg-echo", $0) }
    + [("rpmsg-echo-swift", .riscv32), ("rpmsg-echo-swift", .cortexM4)]

  @Test(arguments: images.indices)
  func clientSampleAndTTYEcho(which: Int) throws {
    let (example, machine) = Self.images[which]
    let host = try HandHost(example, on: machine)
    try host.start()
    let bus = try HostRpmsg(host, ordinal: 0)
    eventually("both announcements") { bus.channels.count == 2 }
    if bus.channels.count != 2 {
      Issue.record("trace: \(try host.trace()); crash: \(String(describing: host.events.firstCrash)); \(host.core.statistics)")
    }
    let sample = try #require(bus.channels["rpmsg-client-sample"])
    let tty = try #require(bus.channels["rpmsg-tty"])
    #expect(sample >= 1024 && tty >= 1024 && sample != tty)
    // Linux's rpmsg_client_sample: 100 round trips of "hello world!".
    for round in 1...100 {
      try bus.send(from: 1024, to: sample, Array("hello world!".utf8))
      eventually("echo \(round)") { bus.messages.count == 2 + round }
      let echo = try #require(bus.messages.last)
      #expect(echo == .init(source: sample, destination: 1024, payload: Array("hello world!".utf8)))
    }
    let largest = (0..<496).map { UInt8(truncatingIfNeeded: $0 &* 7) }
    try bus.send(from: 2000, to: tty, largest)
    eventually("the tty echo") { bus.messages.count == 103 }
    #expect(bus.messages.last == .init(source: tty, destination: 2000, payload: largest))
    #expect(host.events.firstCrash == nil)
    #expect(try host.trace().contains("announced rpmsg-tty"))
    host.core.stop()
  }
}
