import RPMsg
import RPMsgDrivers
import Remoteproc
import RemoteprocEmulated
import Testing
import Virtio

/// rpmsg through the real core on every machine, with the C and the Embedded Swift echo
/// firmware: Linux's `rpmsg_client_sample` (100 round trips of "hello world!") and an
/// `rpmsg-tty` byte stream longer than one message.
@Suite(.enabled(if: FirmwareImages.canRun))
struct EndToEndRPMsgTests {
  static let images: [String] =
    EmulatedMachine.all.map { "rpmsg-echo-\($0.name)" } + ["rpmsg-echo-swift-rv32", "rpmsg-echo-swift-cortex-m4"]

  @Test(arguments: images)
  func clientSampleAndTTYThroughTheCore(image: String) async throws {
    let machine = try #require(EmulatedMachine.all.first { image.hasSuffix("-\($0.name)") })
    try await withRig { rig in
      let core = try await rig.add("\(image).elf", on: machine)
      try await core.processor.boot()
      let bus = try #require(rig.drivers.bus(processor: core.name, index: 0))

      // The client-sample driver probes the announced channel and does its 100 round trips.
      var report: RPMsgClientSampleReport?
      try await until("rpmsg-client-sample to finish its 100 round trips") {
        report = rig.sample.reports.first { $0.finished }
        return report != nil
      }
      #expect(report?.sent == 100 && report?.received == 100 && report?.mismatches == 0)
      #expect(bus.negotiatedFeatures.contains(.rpmsgNameService))

      // rpmsg-tty: 1,200 bytes go out as MTU-sized messages and come back in order.
      let tty = try await rig.ttyPort(core)
      let bytes = (0..<1200).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
      try await tty.write(bytes, timeout: .seconds(10))
      let echoed = try await rig.tty.take("\(ObjectIdentifier(bus))", count: bytes.count)
      #expect(echoed == bytes)
      #expect(bus.transportError == nil)
      #expect(await core.processor.crashCount == 0)
      #expect(try await core.processor.traceText(0).contains("announced rpmsg-tty"))
    }
  }

  /// A host that refuses EVENT_IDX: the SDK falls back to the flags (`used.flags`
  /// NO_NOTIFY while it takes, cleared before it idles; `avail.flags` NO_INTERRUPT for its
  /// own notifications), a path no other end-to-end test takes. A request for kicks lost
  /// there hangs the round trips; a spurious one is harmless.
  @Test(arguments: EmulatedMachine.all)
  func withoutEventIndexTheFlagsSuppressKicks(machine: EmulatedMachine) async throws {
    try await withRig(rpmsgFeatures: [.rpmsgNameService]) { rig in
      let core = try await rig.add("rpmsg-echo-\(machine.name).elf", on: machine)
      try await core.processor.boot()
      let bus = try #require(rig.drivers.bus(processor: core.name, index: 0))
      var report: RPMsgClientSampleReport?
      try await until("rpmsg-client-sample to finish its 100 round trips") {
        report = rig.sample.reports.first { $0.finished }
        return report != nil
      }
      #expect(report?.sent == 100 && report?.received == 100 && report?.mismatches == 0)
      #expect(!bus.negotiatedFeatures.contains(.eventIndex))
      // Some 25 MTU-sized messages each way through 16-entry rings: both rings wrap.
      let tty = try await rig.ttyPort(core)
      let bytes = (0..<12_000).map { UInt8(truncatingIfNeeded: $0 &* 17 &+ 3) }
      try await tty.write(bytes, timeout: .seconds(20))
      #expect(try await rig.tty.take("\(ObjectIdentifier(bus))", count: bytes.count) == bytes)
      #expect(bus.transportError == nil)
      #expect(await core.processor.crashCount == 0)
    }
  }
}
