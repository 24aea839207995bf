import RPMsgDrivers
import Remoteproc
import RemoteprocEmulated
import Testing

/// Run-time firmware changes through the sysfs-like attributes, and several cores of
/// different machines running and talking at once.
@Suite(.enabled(if: FirmwareImages.canRun))
struct EndToEndLifecycleTests {
  @Test(arguments: EmulatedMachine.all)
  func firmwareChangedAtRunTimeBringsThePortBack(machine: EmulatedMachine) async throws {
    try await withRig { rig in
      let core = try await rig.add("case-invert-\(machine.name).elf", on: machine)
      let processor = core.processor
      try await processor.write(.state, "start\n")
      #expect(try await rig.exchange(core, Array("Before".utf8), replyCount: 6) == Array("bEFORE".utf8))
      let port = try rig.port(core)

      // Linux: the firmware only changes while offline (EBUSY).
      await #expect {
        try await processor.write(.firmware, "rpmsg-echo-\(machine.name).elf")
      } throws: { ($0 as? RemoteprocError)?.code == .busy }

      try await processor.write(.state, "stop")
      #expect(!port.isRunning)
      try await processor.write(.firmware, "rpmsg-echo-\(machine.name).elf\n")
      #expect(await processor.read(.firmware) == "rpmsg-echo-\(machine.name).elf\n")
      try await processor.write(.state, "start")
      var report: RPMsgClientSampleReport?
      try await until("the client sample on the new firmware") {
        report = rig.sample.reports.first { $0.finished }
        return report != nil
      }
      #expect(report?.received == 100 && report?.mismatches == 0)

      try await processor.write(.state, "stop")
      try await processor.write(.firmware, "case-invert-\(machine.name).elf")
      try await processor.write(.state, "start")
      #expect(try rig.port(core) === port, "the same port object comes back")
      #expect(port.isRunning)
      #expect(try await rig.exchange(core, Array("After".utf8), replyCount: 5) == Array("aFTER".utf8))
      #expect(await processor.crashCount == 0)
    }
  }

  @Test func fourCoresOfFourMachinesRunAndTalkAtOnce() async throws {
    try await withRig { rig in
      var legacy = RemoteProcessor.Options()
      legacy.legacyZeroVringAddress = true
      let serialCores = [
        try await rig.add("case-invert-mips32.elf", on: .mips32),
        try await rig.add("case-invert-legacy-rv32.elf", on: .riscv32, options: legacy),
      ]
      let rpmsgCores = [
        try await rig.add("rpmsg-echo-mips32be.elf", on: .mips32BigEndian),
        try await rig.add("rpmsg-echo-swift-cortex-m4.elf", on: .cortexM4),
      ]
      let all = serialCores + rpmsgCores
      #expect(Set(all.map(\.name)).count == 4 && Set(all.map(\.machine.name)).count == 4)
      for core in all { try await core.processor.boot() }
      let owners = Set(all.map(\.core.ownerThreadName))
      #expect(owners.count == 4)
      #expect(Set(ProcessCensus.threadNames()).isSuperset(of: owners))

      try await withThrowingTaskGroup(of: Void.self) { group in
        for (n, core) in serialCores.enumerated() {
          group.addTask {
            for (i, line) in EndToEndSerialTests.strings(count: 200, largest: 4096, seed: 100 + UInt64(n)).enumerated() {
              let reply = try await rig.exchange(core, line, replyCount: line.count)
              #expect(reply == caseInverted(line), "\(core.machine) string \(i)")
            }
          }
        }
        for core in rpmsgCores {
          group.addTask {
            let tty = try await rig.ttyPort(core)
            let key = "\(ObjectIdentifier(tty.channel.bus))"
            for round in 0..<50 {
              let bytes = (0..<(round * 37 % 1500 + 1)).map { UInt8(truncatingIfNeeded: $0 &+ round) }
              try await tty.write(bytes, timeout: .seconds(10))
              #expect(try await rig.tty.take(key, count: bytes.count) == bytes, "\(core.machine) round \(round)")
            }
          }
        }
        try await group.waitForAll()
      }
      try await until("both client samples") { rig.sample.reports.filter(\.finished).count == 2 }
      for core in all {
        #expect(await core.processor.crashCount == 0)
        #expect(core.core.statistics.doorbells > 0 && core.core.statistics.kicks > 0)
      }
    }
  }
}
