import Firmware
import Foundation
import RemoteprocEmulated
import SharedMemory
import Testing

/// Inverts the case of ASCII letters only: what case-invert must answer.
func invertedCase(_ bytes: [UInt8]) -> [UInt8] {
  bytes.map { byte in
    let lower = byte | 0x20
    return lower >= UInt8(ascii: "a") && lower <= UInt8(ascii: "z") ? byte ^ 0x20 : byte
  }
}

@Suite(.enabled(if: FirmwareImages.canRun), .serialized)
struct EmulatedCoreTests {
  static let machines = EmulatedMachine.all

  @Test(arguments: machines)
  func bootsAndWritesItsTrace(machine: EmulatedMachine) throws {
    let host = try HandHost("case-invert", on: machine)
    try host.start()
    try host.waitForTrace("case-invert on \(machine.name == "mips32be" ? "mips32" : machine.name): hello")
    eventually("the guest to idle") { host.core.statistics.idles > 0 }
    #expect(host.core.state == .running)
    host.core.stop()
    #expect(host.core.state == .offline)
    #expect(host.events.firstCrash == nil)
  }

  @Test(arguments: machines, ["case-invert", "case-invert-legacy"])
  func caseInvertRoundTripsThroughTheMailbox(machine: EmulatedMachine, example: String) throws {
    let host = try HandHost(example, on: machine)
    try host.start()
    let port = try HostVirtio(host, ordinal: 0, bufferSize: 4096, acceptedFeatures: 1 << 29)
    try host.waitForTrace("serial: up")
    let lines: [[UInt8]] = [
      Array("Hello, Remote World\n".utf8), Array("\n".utf8), [],
      Array("MiXeD 123 !?@[`{ zZ aA".utf8), (0..<4096).map { UInt8(truncatingIfNeeded: $0) },
    ]
    var expected: [UInt8] = []
    for line in lines {
      try port.send(line)
      expected += invertedCase(line)
      eventually("the inverted reply of \(line.count) bytes") { port.receivedBytes.count >= expected.count }
    }
    #expect(port.receivedBytes.count == expected.count)
    #expect(port.receivedBytes.elementsEqual(expected), "replies differ from the inverted input")
    #expect(String(decoding: port.received.withLock { $0[0] }, as: UTF8.self) == "hELLO, rEMOTE wORLD\n")
    let statistics = host.core.statistics
    #expect(statistics.kicks > 0 && statistics.doorbells > 0 && statistics.interruptsDelivered > 0)
    #expect(host.events.firstCrash == nil)
    host.core.stop()
  }

  static let crashCases: [(command: String, kind: CrashReport.Kind, symbol: String?)] = [
    ("invalid-instruction", .invalidInstruction, "crash_invalid_instruction"),
    ("bad-load", .badRead, "crash_load"),
    ("bad-store", .badWrite, "crash_store"),
    ("misaligned", .misalignedAccess, "crash_misaligned"),
    ("bad-fetch", .badFetch, nil),
    ("abort", .abort, nil),
    ("hang", .watchdog, nil),
  ]

  @Test(arguments: machines, crashCases.indices)
  func crashesAreReportedWithTheirKindAndPC(machine: EmulatedMachine, which: Int) throws {
    let (command, kind, symbol) = Self.crashCases[which]
    let host = try HandHost("crashy", on: machine, options: .init(watchdogTimeout: .milliseconds(200)))
    try host.start()
    let port = try HostVirtio(host, ordinal: 0, bufferSize: 512, acceptedFeatures: 0)
    try host.waitForTrace("serial: up")
    try port.send(Array("\(command)\n".utf8))
    let report = try host.waitForCrash()
    #expect(report.kind == kind, "\(report)")
    #expect(try host.trace().contains("crashy: \(command) at"))
    if let symbol {
      let address = try host.image.symbol(named: symbol).value & ~1
      #expect(report.pc == address, "\(report) expected pc 0x\(String(address, radix: 16))")
    }
    switch kind {
    case .badFetch:
      let target: UInt64 = machine.architecture == .mips32 ? 0x9000_0000 : 0x3000_0000
      #expect(report.pc == target && report.isPCPrecise)
    case .badRead, .badWrite:
      let target: UInt64 = machine.architecture == .mips32 ? 0x9000_0000 : 0x3000_0000
      #expect(report.address == target)
      #expect(report.category == .mmuFault)
    case .abort:
      #expect(report.detail == 0xC0FFEE)
      #expect(host.core.memory(forDeviceAddress: report.pc, length: 4) != nil, "\(report)")
      #expect(report.category == .fatalError)
    case .watchdog:
      #expect(report.category == .watchdog)
    default: break
    }
    guard case .crashed(let state) = host.core.state else {
      Issue.record("state is \(host.core.state) after \(report)")
      return
    }
    #expect(state == report)
    #expect(host.events.crashes.withLock { $0.count } == 1)
    host.core.stop()
    #expect(host.core.state == .offline)
  }

  @Test func twoCoresRunAtOnce() throws {
    let mips = try HandHost("case-invert", on: .mips32BigEndian)
    let arm = try HandHost("case-invert", on: .cortexM4)
    try mips.start()
    try arm.start()
    let mipsPort = try HostVirtio(mips, ordinal: 0, bufferSize: 512, acceptedFeatures: 0)
    let armPort = try HostVirtio(arm, ordinal: 0, bufferSize: 512, acceptedFeatures: 1 << 29)
    for round in 0..<50 {
      let text = Array("round \(round) on two Cores".utf8)
      try mipsPort.send(text)
      try armPort.send(text)
    }
    let total = (0..<50).reduce(0) { $0 + "round \($1) on two Cores".utf8.count }
    eventually("both cores to answer") {
      mipsPort.receivedBytes.count == total && armPort.receivedBytes.count == total
    }
    #expect(mipsPort.receivedBytes.elementsEqual(armPort.receivedBytes))
    #expect(String(decoding: mipsPort.receivedBytes.prefix(9), as: UTF8.self) == "ROUND 0 O")
    mips.core.stop()
    arm.core.stop()
  }

  @Test func stopAndStartAgainLeaveNoThreadBehind() throws {
    let host = try HandHost("case-invert", on: .riscv32)
    let name = host.core.ownerThreadName
    #expect(threads(named: name) == 0)
    for run in 0..<5 {
      try host.start()
      #expect(threads(named: name) == 1, "run \(run)")
      try host.waitForTrace("case-invert on rv32: hello")
      host.core.stop()
      #expect(threads(named: name) == 0, "run \(run)")  // joined, not just asked to end
      // A new run starts from the image as loaded: reload what the guest changed.
      try host.image.loadSegments { host.core.memory(forDeviceAddress: $0, length: $1) }
    }
    #expect(throws: EmulationError.self) {
      try host.start()
      try host.start()
    }
    host.core.stop()
    #expect(threads(named: name) == 0)
  }

  @Test func aCrashedCoreStartsAgain() throws {
    let host = try HandHost("crashy", on: .mips32, options: .init(watchdogTimeout: nil))
    for _ in 0..<3 {
      host.events.crashes.withLock { $0 = [] }
      try host.start()
      let port = try HostVirtio(host, ordinal: 0, bufferSize: 512, acceptedFeatures: 0)
      try port.send(Array("bad-store".utf8))
      #expect(try host.waitForCrash().kind == .badWrite)
      host.core.stop()
      try host.image.loadSegments { host.core.memory(forDeviceAddress: $0, length: $1) }
    }
  }
}

/// Threads of this process with this name (other suites run cores in parallel, so a plain
/// thread count would not do).
func threads(named name: String) -> Int {
  let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task")) ?? []
  return tasks.filter { task in
    let comm = (try? String(contentsOfFile: "/proc/self/task/\(task)/comm", encoding: .utf8)) ?? ""
    return comm.trimmingCharacters(in: .whitespacesAndNewlines) == name
  }.count
}
