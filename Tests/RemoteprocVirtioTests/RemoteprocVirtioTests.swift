import Firmware
import Foundation
import RPMsg
import RPMsgDrivers
import Remoteproc
import RemoteprocTesting
import RemoteprocVirtio
import SharedMemory
import Synchronization
import Testing
import Virtio

/// The whole stack: the core loads a firmware image whose resource table has an rpmsg vdev,
/// allocates the vrings and the buffer pool, and starts `RemoteprocVirtioDrivers`' host bus;
/// the "firmware" (Swift, on the test platform's thread) runs the remote role on the same
/// memory, announces rpmsg-client-sample and echoes; the host's client-sample driver does
/// its 100 round trips. Then the remote stops, and after the next boot the channel comes
/// back on the same bus.
@Suite struct RemoteprocVirtioTests {
  static func echoFirmware(image: TestFirmwareImage) -> TestFirmwareProgram {
    { ctx in
      // Find our vdev (entry 1, after the trace) in the loaded table, as firmware would.
      guard let table = ctx.translate(image.dataAddress, 256),
        let offset = try? table.load(UInt32.self, at: 16 + 4, order: .little),
        let slice = try? table.slice(
          at: Int(offset) + 4, length: VirtioDeviceEntry.byteCount(vrings: 2, configLength: 0)),
        let entry = try? VirtioDeviceEntry(region: slice, byteOrder: .little),
        let map = try? DeviceAddressMap(ctx.memory.windows.map {
          DeviceAddressMap.Window(deviceAddress: $0.deviceAddress, region: $0.region)
        })
      else { return ctx.idleUntilStopped() }
      let remote = RPMsgBus(role: .remote, notify: { id in ctx.kickHost(id) })
      // Wait for DRIVER_OK before reading the vrings' addresses.
      while !ctx.shouldStop, (try? remote.startRemote(resource: entry, addressMap: map)) != true {
        _ = ctx.waitForKicks(timeout: .milliseconds(2))
      }
      let echo = try? remote.createEndpoint(
        name: "rpmsg-client-sample", address: EndpointAddress(0x400), announce: true
      ) { m in
        try? remote.endpoint(at: EndpointAddress(0x400))?.trySend(m.payload, to: m.source)
      }
      while !ctx.shouldStop {
        _ = ctx.waitForKicks(timeout: .milliseconds(20))
        remote.handleKick()
      }
      _ = echo
      remote.reset(reason: "stopped")
    }
  }

  @Test func clientSampleRunsOverTheCoreAndComesBackAfterARestart() async throws {
    var image = TestFirmwareImage()
    image.entries = [ResourceTableBuilder.virtioDevice(
      id: 7, features: VirtioFeatures([.rpmsgNameService, .eventIndex]).rawValue, ringSize: 16)]
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("rproc-virtio-\(UUID())")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    try image.write(to: directory, name: "fw.elf")
    let platform = try TestPlatform()
    platform.setProgram(Self.echoFirmware(image: image))
    let sample = RPMsgClientSampleDriver()
    let registry = RemoteprocRegistry()
    var events = registry.events.subscribe().makeAsyncIterator()
    let drivers = RemoteprocVirtioDrivers(
      newBus: { _, _, bus in bus.register(sample) }, events: registry.events)
    let processor = await registry.add(
      name: "test-core", firmware: "fw.elf", platform: platform,
      firmwareStore: FirmwareStore(directories: [directory.path]), drivers: drivers
    ).processor
    let name = processor.deviceName

    try await processor.boot()
    var reports = sample.finished.makeAsyncIterator()
    let first = await reports.next()
    #expect(first == RPMsgClientSampleReport(remote: EndpointAddress(0x400), sent: 100,
                                             received: 100, mismatches: 0, finished: true))
    let bus = try #require(drivers.bus(processor: name, index: 0))
    #expect(bus.negotiatedFeatures == [.rpmsgNameService, .eventIndex])
    #expect(bus.transportError == nil)

    // The bus's channel observer reached the core's events.
    func nextChannelEvent() async -> RemoteprocEvent? {
      while let event = await events.next() {
        switch event {
        case .channelAdded, .channelRemoved: return event
        default: continue
        }
      }
      return nil
    }
    #expect(await nextChannelEvent() == .channelAdded(
      processor: name, name: "rpmsg-client-sample", source: 1024, destination: 0x400))

    try await processor.shutdown()
    #expect(!bus.isRunning)
    #expect(bus.channels.isEmpty)
    #expect(await nextChannelEvent() == .channelRemoved(
      processor: name, name: "rpmsg-client-sample", source: 1024, destination: 0x400))

    try await processor.boot()
    let second = await reports.next()
    #expect(second?.received == 100)
    #expect(drivers.bus(processor: name, index: 0) === bus)  // the same bus, drivers kept
    try await processor.shutdown()
    await registry.remove(processor)
    await platform.terminateFirmware()
  }
}

@Suite struct RemoteprocVirtioDriversTests {
  @Test func bufferPoolSizesPerDeviceID() {
    let drivers = RemoteprocVirtioDrivers(serialBufferSize: 4096)
    func device(_ id: UInt32, _ counts: [UInt32]) -> Firmware.VirtioDeviceResource {
      Firmware.VirtioDeviceResource(
        id: id, deviceFeatures: 0,
        vrings: counts.map { VringResource(deviceAddress: .max, alignment: 4096, count: $0) })
    }
    #expect(drivers.bufferPoolSize(for: device(7, [16, 16])) == 32 * 512)  // num_bufs = 2·16
    #expect(drivers.bufferPoolSize(for: device(7, [256, 256])) == 512 * 512)  // capped at 512
    #expect(drivers.bufferPoolSize(for: device(11, [4, 4])) == 8 * 4096)  // the MIPS example
    #expect(drivers.bufferPoolSize(for: device(3, [8, 4])) == 12 * 4096)
    #expect(drivers.bufferPoolSize(for: device(1, [8, 8])) == nil)  // no driver: left alone
  }
}
