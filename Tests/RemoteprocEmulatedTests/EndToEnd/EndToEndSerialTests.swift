import Firmware
import Foundation
import Remoteproc
import RemoteprocEmulated
import Testing

/// The seed's virtual serial port, through the real core on every machine: boot, state and
/// trace; 1,000 random strings (empty ones, empty lines and the largest buffer included)
/// each coming back case-inverted; the legacy firmware whose vrings ask for address 0.
@Suite(.enabled(if: FirmwareImages.canRun))
struct EndToEndSerialTests {
  static func machineTag(_ machine: EmulatedMachine) -> String {
    machine.name == "mips32be" ? "mips32" : machine.name  // the SDK names the CPU, not the byte order
  }

  @Test(arguments: EmulatedMachine.all)
  func bootsRunsAndTracesThroughTheCore(machine: EmulatedMachine) async throws {
    try await withRig { rig in
      let core = try await rig.add("case-invert-\(machine.name).elf", on: machine)
      #expect(await core.processor.read(.state) == "offline\n")
      try await core.processor.boot()
      #expect(await core.processor.read(.state) == "running\n")
      #expect(core.core.state == .running)
      #expect(ProcessCensus.threadNames().filter { $0 == core.core.ownerThreadName }.count == 1)
      let hello = "case-invert on \(Self.machineTag(machine)): hello"
      try await until("the trace to greet") { try await core.processor.traceText(0).contains(hello) }
      try await until("the port to come up") {
        try await core.processor.traceText(0).contains("serial: up, 16 buffers each way")
      }
      #expect(try rig.port(core).isRunning)
      #expect(await !core.processor.carveouts.isEmpty)

      try await core.processor.shutdown()
      #expect(await core.processor.read(.state) == "offline\n")
      #expect(core.core.state == .offline)
      #expect(await core.processor.carveouts.isEmpty)
      #expect(try !rig.port(core).isRunning)
      #expect(ProcessCensus.threadNames().filter { $0 == core.core.ownerThreadName }.isEmpty)
    }
  }

  /// 1,000 strings: the empty string, empty lines, the largest buffer (4 KiB) in three
  /// alphabets, and random strings of random lengths over all 256 byte values, printable
  /// ASCII and letters only.
  static func strings(count: Int, largest: Int, seed: UInt64) -> [[UInt8]] {
    var random = SplitMix64(seed: seed)
    let printable = Array(UInt8(0x20)...UInt8(0x7E))
    let letters = Array(UInt8(ascii: "A")...UInt8(ascii: "Z")) + Array(UInt8(ascii: "a")...UInt8(ascii: "z"))
    func string(_ length: Int, _ alphabet: [UInt8]?) -> [UInt8] {
      (0..<length).map { _ in alphabet?.randomElement(using: &random) ?? UInt8.random(in: 0...255, using: &random) }
    }
    var all: [[UInt8]] = [
      [], Array("\n".utf8), Array("\n\n".utf8), Array("\r\n".utf8), Array("Hello, Remote World\n".utf8),
      string(largest, nil), string(largest, printable), string(largest, letters), string(largest - 1, letters),
      string(1, letters),
    ]
    while all.count < count {
      let length = Int.random(in: 0...10, using: &random) == 0
        ? Int.random(in: 257...largest, using: &random) : Int.random(in: 0...256, using: &random)
      let alphabet = [nil, printable, letters][Int.random(in: 0...2, using: &random)]
      var line = string(length, alphabet)
      if Bool.random(using: &random) { line.append(UInt8(ascii: "\n")) }
      if line.count > largest { line.removeLast() }
      all.append(line)
    }
    return all
  }

  @Test(arguments: EmulatedMachine.all, [false, true])
  func aThousandRandomStringsComeBackCaseInverted(machine: EmulatedMachine, legacy: Bool) async throws {
    try await withRig { rig in
      var options = RemoteProcessor.Options()
      options.legacyZeroVringAddress = legacy
      let firmware = "case-invert\(legacy ? "-legacy" : "")-\(machine.name).elf"
      let core = try await rig.add(firmware, on: machine, options: options)
      try await core.processor.boot()
      let port = try rig.port(core)
      let seed = UInt64(EmulatedMachine.all.firstIndex(of: machine)!) &* 2 &+ (legacy ? 1 : 0)
      let strings = Self.strings(count: 1000, largest: port.bufferSize, seed: seed)
      #expect(strings.count == 1000 && strings.contains { $0.count == 4096 } && strings.contains([]))
      var total = 0
      for (index, string) in strings.enumerated() {
        let reply = try await rig.exchange(core, string, replyCount: string.count)
        total += string.count
        guard reply == caseInverted(string) else {
          Issue.record("string \(index) (seed \(seed), \(string.count) bytes) came back as \(reply.prefix(64))…")
          break
        }
      }
      #expect(try port.write([]) == 0)  // nothing to send: no buffer, no kick
      #expect(port.counters.sent == UInt64(total) && port.counters.received == UInt64(total))
      #expect(rig.serial.count(core.name) == 0, "no byte beyond the replies")
      #expect(await core.processor.crashCount == 0)
      #expect(port.transportError == nil)
      if legacy {
        // The vrings asked for address 0; the legacy option allocated them elsewhere.
        let text = await core.processor.resourceTableText
        #expect(!text.isEmpty)
        #expect(await core.processor.carveouts.contains { $0.name.hasPrefix("vdev0vring") && $0.deviceAddress != 0 })
      }
    }
  }
}
