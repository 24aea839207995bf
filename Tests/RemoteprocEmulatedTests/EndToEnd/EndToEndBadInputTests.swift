import Firmware
import Remoteproc
import RemoteprocEmulated
import Testing
import Virtio

/// Bad firmware through the real core, on every machine: refused or reported with a reason,
/// and the host (the registry, the same processor, other devices) keeps running.
@Suite(.enabled(if: FirmwareImages.canRun))
struct EndToEndBadInputTests {
  /// Boots `core`, expecting a refusal whose message contains `reason`; then the processor is
  /// offline with nothing allocated and no owner thread.
  static func expectRefused(
    _ core: EndToEndRig.Core, _ reason: String, sourceLocation: SourceLocation = #_sourceLocation
  ) async {
    do {
      try await core.processor.boot()
      Issue.record("booted, expected a refusal naming \(reason)", sourceLocation: sourceLocation)
    } catch {
      #expect(error.message.contains(reason), "\(error.message)", sourceLocation: sourceLocation)
    }
    #expect(await core.processor.state == .offline, sourceLocation: sourceLocation)
    #expect(await core.processor.carveouts.isEmpty, sourceLocation: sourceLocation)
    #expect(core.core.state == .offline, sourceLocation: sourceLocation)
    #expect(!ProcessCensus.threadNames().contains(core.core.ownerThreadName), sourceLocation: sourceLocation)
  }

  /// The host keeps running: the same processor boots good firmware afterwards.
  static func expectRecovers(_ rig: EndToEndRig, _ core: EndToEndRig.Core) async throws {
    try await core.processor.write(.firmware, "case-invert-\(core.machine.name).elf")
    try await core.processor.boot()
    #expect(try await rig.exchange(core, Array("Still Here".utf8), replyCount: 10) == Array("sTILL hERE".utf8))
  }

  @Test(arguments: EmulatedMachine.all)
  func firmwareForAnotherMachineIsRefusedWithAReason(machine: EmulatedMachine) async throws {
    let other = EmulatedMachine.all[(EmulatedMachine.all.firstIndex(of: machine)! + 1) % EmulatedMachine.all.count]
    try await withRig { rig in
      let core = try await rig.add("case-invert-\(other.name).elf", on: machine)
      await Self.expectRefused(core, "cannot run on \(machine.name)")
      try await Self.expectRecovers(rig, core)
    }
  }

  @Test(arguments: EmulatedMachine.all)
  func segmentsOutsideTheMachinesMemoryAreRefused(machine: EmulatedMachine) async throws {
    var patch = try FirmwarePatch("case-invert", for: machine)
    try patch.moveFirstSegment(to: 0x7000_0000)
    try await patch.withStore(name: "moved.elf") { store in
      try await withRig { rig in
        let core = try await rig.add("moved.elf", on: machine, store: store)
        await Self.expectRefused(core, "0x70000000")
      }
    }
  }

  @Test(arguments: EmulatedMachine.all)
  func aSerialVdevTheHostCannotDriveNeverReachesDriverOK(machine: EmulatedMachine) async throws {
    var patch = try FirmwarePatch("case-invert", for: machine)
    try patch.setVringCount(ofVirtioDevice: 11, to: 1)
    try await patch.withStore(name: "one-vring.elf") { store in
      try await withRig { rig in
        let core = try await rig.add("one-vring.elf", on: machine, store: store)
        await Self.expectRefused(core, "needs 2 vrings")
      }
    }
  }

  /// Current kernels treat a vring address of 0 as fixed: without the legacy option the old
  /// firmware's vrings land on its code, on each other or outside memory, and are refused.
  @Test(arguments: EmulatedMachine.all)
  func legacyFirmwareWithoutTheLegacyOptionIsRefused(machine: EmulatedMachine) async throws {
    try await withRig { rig in
      let core = try await rig.add("case-invert-legacy-\(machine.name).elf", on: machine)
      await Self.expectRefused(core, "da 0x0 length")
      try await Self.expectRecovers(rig, core)
    }
  }

  /// The host completes its handshake (DRIVER_OK) but the firmware never reads its table or
  /// rings: writes fill the transmit buffers, then fail at once (try) or time out (waiting)
  /// with a reason; nothing hangs, and the processor stops normally.
  @Test(arguments: EmulatedMachine.all)
  func aFirmwareThatNeverServesItsRingsMakesSendsFailClearly(machine: EmulatedMachine) async throws {
    var patch = try FirmwarePatch("case-invert", for: machine)
    try patch.idleForever(on: machine)
    try await patch.withStore(name: "silent.elf") { store in
      try await withRig { rig in
        let core = try await rig.add("silent.elf", on: machine, store: store)
        try await core.processor.boot()
        let port = try rig.port(core)
        #expect(port.isRunning)
        let buffers = 16 * port.bufferSize
        #expect(try port.write(Array(repeating: 0x41, count: buffers + 1)) == buffers)  // all taken, none returned
        #expect(try port.write([0x42]) == 0)  // try-send: no buffer, at once
        await #expect {
          try await port.write(Array("never read".utf8), timeout: .milliseconds(100))
        } throws: { error in
          let error = error as? VirtioError
          return error?.code == .noSpace && error?.message.contains("before the deadline") == true
        }
        #expect(rig.serial.count(core.name) == 0)
        #expect(try await core.processor.traceText(0).isEmpty)
        #expect(await core.processor.crashCount == 0)
        try await core.processor.shutdown()
        #expect(core.core.state == .offline)
      }
    }
  }

  /// crashy writes garbage into the ring the host reads (used index far ahead, a used id out
  /// of range, a used length beyond the buffer): the host marks that queue broken with the
  /// numbers, logs it, fails later writes on it with the same error, and keeps running: the
  /// firmware's other device still works, and a restart brings the broken one back.
  @Test(arguments: EmulatedMachine.all, ["garbage-index", "garbage-id", "garbage-length"])
  func garbageInTheSerialRingsIsReportedAndTheHostKeepsRunning(machine: EmulatedMachine, garbage: String) async throws {
    try await withRig { rig in
      let core = try await rig.add("crashy-\(machine.name).elf", on: machine)
      try await core.processor.boot()
      let port = try rig.port(core)
      #expect(try await rig.exchange(core, Array("Ok".utf8), replyCount: 2) == Array("oK".utf8))
      try await port.write(Array("\(garbage)\n".utf8), timeout: .seconds(5))
      try await until("the broken receiveq") { port.transportError != nil }
      let reason = port.transportError?.message ?? ""
      let expected = ["garbage-index": "past last seen", "garbage-id": "used id 65535", "garbage-length": "exceeds"][garbage]!
      #expect(port.transportError?.code == .brokenQueue && reason.contains(expected), "\(reason)")
      #expect(rig.log.contains { $0.contains("serial receiveq broken") && $0.contains(expected) })
      #expect(throws: VirtioError.self) { try port.write(Array("more".utf8)) }
      #expect(try await core.processor.traceText(0).contains("crashy: \(garbage) on vring 0"))

      // The host and the firmware's rpmsg device keep running.
      #expect(await core.processor.state == .running && core.core.state == .running)
      #expect(try await rig.crashyEcho(core, Array("rpmsg still up".utf8)) == Array("rpmsg still up".utf8))
      // A restart resets the queue.
      try await core.processor.shutdown()
      try await core.processor.boot()
      #expect(port.transportError == nil)
      #expect(try await rig.exchange(core, Array("Back".utf8), replyCount: 4) == Array("bACK".utf8))
    }
  }

  @Test(arguments: EmulatedMachine.all)
  func garbageInTheRPMsgRingsIsReportedAndTheHostKeepsRunning(machine: EmulatedMachine) async throws {
    try await withRig { rig in
      let core = try await rig.add("crashy-\(machine.name).elf", on: machine)
      try await core.processor.boot()
      let endpoint = try await rig.crashyEndpoint(core)
      let bus = endpoint.channel.bus
      try await endpoint.send(Array("garbage-index".utf8), timeout: .seconds(5))
      try await until("the broken rpmsg receive vring") { bus.transportError != nil }
      #expect(bus.transportError?.message.contains("past last seen") == true, "\(String(describing: bus.transportError))")
      #expect(rig.log.contains { $0.contains("receive vring broken") })
      // The serial port of the same firmware, and the processor, keep running.
      #expect(await core.processor.state == .running)
      #expect(try await rig.exchange(core, Array("Serial".utf8), replyCount: 6) == Array("sERIAL".utf8))
    }
  }
}
