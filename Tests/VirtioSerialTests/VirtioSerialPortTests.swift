import SharedMemory
import Synchronization
import Testing
import Virtio
import VirtioSerial

/// The seed's MIPS example firmware, in Swift: a remoteproc serial port (id 11, two vrings
/// of 4, align 0x1000, config_len 0xc) that inverts the case of what it receives. Like the
/// C original it reads vring 0 as "outgoing" and vring 1 as "incoming", copies
/// min(in, out) bytes, returns both buffers and always interrupts the host.
struct CaseInvertingFirmware {
  var outgoing: VirtqueueDevice
  var incoming: VirtqueueDevice
  let map: DeviceAddressMap
  /// Bytes sent back to the host so far.
  var echoed = 0

  init(resource: VirtioDeviceEntry, map: DeviceAddressMap) throws {
    let rings = try VirtioDeviceHandshake(resource: resource).vrings(addressMap: map)
    outgoing = rings[0]
    incoming = rings[1]
    self.map = map
  }

  /// The firmware's interrupt handler; returns true (it always raises the host's IRQ).
  mutating func interrupt() throws -> Bool {
    while let input = try incoming.takeAvailable() {
      let inRegion = try map.region(at: input.first.location, length: Int(input.first.length))
      if let output = try outgoing.takeAvailable() {
        let outRegion = try map.region(at: output.first.location, length: Int(output.first.length))
        let n = min(Int(input.first.length), Int(output.first.length))
        let bytes = try inRegion.bytes(at: 0, count: n).map { c -> UInt8 in
          switch c {
          case UInt8(ascii: "a")...UInt8(ascii: "z"): c - 0x20
          case UInt8(ascii: "A")...UInt8(ascii: "Z"): c + 0x20
          default: c
          }
        }
        try outRegion.write(bytes, at: 0)
        try outgoing.returnUsed(head: output.head, length: UInt32(n))
        echoed += n
      }
      try incoming.returnUsed(head: input.head, length: input.first.length)
    }
    return true
  }
}

/// A mapping laid out as the remoteproc core would for the MIPS example's vdev.
struct SerialFixture {
  let mapping: SharedMapping
  let resource: VirtioDeviceEntry
  let vrings: [DeviceMemory]
  let pool: DeviceMemory
  let map: DeviceAddressMap
  static let base: UInt64 = 0x0010_0000

  init(order: ByteOrder, count: Int = 4, bufferSize: Int = 4096, id: UInt32 = 11) throws {
    let poolBytes = VirtioSerialPort.bufferPoolSize(receiveCount: count, transmitCount: count,
                                                    bufferSize: bufferSize)
    mapping = try SharedMapping.anonymous(count: 0x5000 + poolBytes)
    let r = mapping.region
    resource = try VirtioDeviceEntry.initialize(
      in: try r.slice(at: 0, length: 256), byteOrder: order, deviceID: id, deviceFeatures: [],
      vrings: [(0x1000, UInt32(count)), (0x1000, UInt32(count))], configLength: 12)
    vrings = [DeviceMemory(deviceAddress: Self.base + 0x1000, region: try r.slice(at: 0x1000, length: 0x2000)),
              DeviceMemory(deviceAddress: Self.base + 0x3000, region: try r.slice(at: 0x3000, length: 0x2000))]
    pool = DeviceMemory(deviceAddress: Self.base + 0x5000, region: try r.slice(at: 0x5000, length: poolBytes))
    map = DeviceAddressMap(deviceAddress: Self.base, region: r)
  }
}

final class Kicks: Sendable {
  let ids = Mutex<[UInt32]>([])
  func record(_ id: UInt32) { ids.withLock { $0.append(id) } }
  func take() -> [UInt32] {
    ids.withLock { ids in
      defer { ids = [] }
      return ids
    }
  }
}

@Suite struct VirtioSerialPortTests {
  @Test(arguments: ByteOrder.allCases)
  func theMIPSExampleFirmwareInvertsCase(order: ByteOrder) throws {
    let f = try SerialFixture(order: order)
    let kicks = Kicks()
    let received = Mutex<[UInt8]>([])
    let port = VirtioSerialPort(notify: { kicks.record($0) }) { bytes in
      received.withLock { $0 += bytes }
    }
    try port.start(resource: f.resource, vrings: f.vrings, buffers: f.pool, notifyIDs: [0, 1])
    #expect(f.resource.status.rawValue == 7)
    #expect(f.resource.driverFeatures.rawValue == 0)
    #expect(kicks.take() == [0])  // receive buffers posted: kick the receiveq
    var firmware = try CaseInvertingFirmware(resource: f.resource, map: f.map)
    #expect(try port.write(Array("Hello, World! 123".utf8)) == 17)
    #expect(kicks.take() == [1])
    if try firmware.interrupt() { port.handleKick() }
    #expect(received.withLock { $0 } == Array("hELLO, wORLD! 123".utf8))
    // More than the ring holds, in several rounds: every byte comes back in order.
    let text = Array(String(repeating: "abcXYZ", count: 3000).utf8)  // 18000 bytes, 5 buffers
    var sent = 0
    var rounds = 0
    while sent < text.count || received.withLock({ $0.count }) < 17 + text.count {
      if sent < text.count { sent += try port.write(Array(text[sent...])) }
      if try firmware.interrupt() { port.handleKick() }
      rounds += 1
      #expect(rounds < 100)
      if rounds >= 100 { break }
    }
    let expected = Array("hELLO, wORLD! 123".utf8) + Array(String(repeating: "ABCxyz", count: 3000).utf8)
    #expect(received.withLock { $0 } == expected)
    #expect(port.counters == (received: UInt64(expected.count), sent: UInt64(17 + text.count)))
    #expect(port.transportError == nil)
  }

  @Test func asyncWriteWaitsForBuffersAndInputStreamDelivers() async throws {
    let f = try SerialFixture(order: .little, bufferSize: 16)
    let port = VirtioSerialPort(bufferSize: 16, notify: { _ in })
    try port.start(resource: f.resource, vrings: f.vrings, buffers: f.pool)
    var firmware = try CaseInvertingFirmware(resource: f.resource, map: f.map)
    let writer = Task { try await port.write(Array(repeating: UInt8(ascii: "q"), count: 100), timeout: .seconds(10)) }
    var got: [UInt8] = []
    var input = port.input.makeAsyncIterator()
    while got.count < 100 {
      try await Task.sleep(for: .milliseconds(1))
      // Wait only for what the firmware echoed this round: the writer task may not have
      // written anything yet (on a busy machine), and then nothing would ever arrive.
      if try firmware.interrupt() { port.handleKick() }
      while got.count < firmware.echoed, let chunk = await input.next() {
        got += chunk
      }
    }
    try await writer.value
    #expect(got == Array(repeating: UInt8(ascii: "Q"), count: 100))
  }

  @Test func writeWithoutBuffersTakesNothing() throws {
    let f = try SerialFixture(order: .little, bufferSize: 16)
    let port = VirtioSerialPort(bufferSize: 16, notify: { _ in }) { _ in }
    try port.start(resource: f.resource, vrings: f.vrings, buffers: f.pool)
    #expect(try port.write(Array(repeating: 1, count: 100)) == 64)  // 4 buffers of 16
    #expect(try port.write([1]) == 0)
  }

  @Test func badSetupIsRejected() throws {
    let f = try SerialFixture(order: .little, id: 7)
    let port = VirtioSerialPort(notify: { _ in })
    #expect(throws: VirtioError.self) {
      try port.start(resource: f.resource, vrings: f.vrings, buffers: f.pool)
    }
    let g = try SerialFixture(order: .little)
    let small = DeviceMemory(deviceAddress: g.pool.deviceAddress,
                             region: try g.pool.region.slice(at: 0, length: 4096))
    #expect(throws: VirtioError.self) {
      try port.start(resource: g.resource, vrings: g.vrings, buffers: small)
    }
    #expect(g.resource.status.contains(.failed))
  }

  @Test func hostileUsedLengthBreaksTheReceiveQueueOnly() throws {
    let f = try SerialFixture(order: .little)
    let port = VirtioSerialPort(notify: { _ in }) { _ in }
    try port.start(resource: f.resource, vrings: f.vrings, buffers: f.pool)
    // The "firmware" returns receive buffer 0 claiming 5000 bytes of a 4096-byte buffer.
    var out = try VirtioDeviceHandshake(resource: f.resource).vrings(addressMap: f.map)[0]
    let chain = try #require(try out.takeAvailable())
    try out.returnUsed(head: chain.head, length: 4096)
    try f.mapping.region.store(UInt32(5000), at: 0x1000 + 0x1000 + 8, order: .little)
    port.handleKick()
    #expect(port.transportError?.message == "used len 5000 for id 0 exceeds the 4096 byte(s) offered")
  }

  @Test func resetReturnsStatusToZero() throws {
    let f = try SerialFixture(order: .big)
    let port = VirtioSerialPort(notify: { _ in }) { _ in }
    try port.start(resource: f.resource, vrings: f.vrings, buffers: f.pool)
    port.reset()
    #expect(f.resource.status.rawValue == 0)
    #expect(!port.isRunning)
    #expect(throws: VirtioError.self) { try port.write([1]) }
    try port.start(resource: f.resource, vrings: f.vrings, buffers: f.pool)
    #expect(port.isRunning)
  }
}

/// A remote that answers synchronously inside the host's kick (an in-process firmware).
final class SynchronousFirmware: Sendable {
  let firmware: Mutex<CaseInvertingFirmware?> = Mutex(nil)
  let port = Mutex<VirtioSerialPort?>(nil)
  func kicked() {
    let raise = firmware.withLock { f in (try? f?.interrupt()) ?? false }
    if raise { port.withLock { $0 }?.handleKick() }
  }
}

@Suite struct VirtioSerialReentrancyTests {
  @Test func receiveClosureThatWritesToASynchronousRemoteKeepsOrder() throws {
    let f = try SerialFixture(order: .little, bufferSize: 8)
    let remote = SynchronousFirmware()
    let got = Mutex<[UInt8]>([])
    let rounds = Mutex(0)
    let port = VirtioSerialPort(bufferSize: 8, notify: { id in if id == 1 { remote.kicked() } }) { bytes in
      got.withLock { $0 += bytes }
      // Answer each chunk with the next one, from inside the receive closure.
      let again = rounds.withLock { r -> Bool in
        r += 1
        return r < 50
      }
      if again { _ = try? remote.port.withLock { $0 }?.write(Array("ab".utf8)) }
    }
    remote.port.withLock { $0 = port }
    try port.start(resource: f.resource, vrings: f.vrings, buffers: f.pool, notifyIDs: [0, 1])
    remote.firmware.withLock { $0 = try? CaseInvertingFirmware(resource: f.resource, map: f.map) }
    _ = try port.write(Array("ab".utf8))
    #expect(got.withLock { $0 } == Array(String(repeating: "AB", count: 50).utf8))
    #expect(port.transportError == nil)
  }
}
