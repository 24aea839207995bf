import Foundation
import Remoteproc
import RemoteprocEmulated
import Testing

/// Crash and recovery through the real core, 50 times in a row on every machine, with
/// crashy: each round crashes it a different way (a serial command for every crash kind, the
/// same over rpmsg, a kick of notify id 30, and once a hang the watchdog catches), waits for
/// recovery and proves the serial port and the rpmsg channel work again. Each machine runs in
/// its own process (an exit test), so the thread, descriptor and mapping counts of
/// `/proc/self` belong to this test alone; a leak of one thread or one mapping per recovery
/// would show as 50.
@Suite(.enabled(if: FirmwareImages.canRun))
struct EndToEndRecoveryTests {
  @Test(arguments: EmulatedMachine.all.map(\.name))
  func crashAndRecoverFiftyTimesWithoutLeaking(machine: String) async {
    await #expect(processExitsWith: .success) { [machine] in
      try await EndToEndRecoveryTests.crashAndRecover(on: EmulatedMachine.named(machine)!, rounds: 50)
    }
  }

  enum Method: CustomStringConvertible {
    case serial(String), rpmsg(String), kick30, hang
    var description: String {
      switch self {
      case .serial(let c): "serial \(c)"
      case .rpmsg(let c): "rpmsg \(c)"
      case .kick30: "kick 30"
      case .hang: "hang"
      }
    }
  }

  static let kinds: [(command: String, kind: CrashReport.Kind)] = [
    ("invalid-instruction", .invalidInstruction), ("bad-load", .badRead), ("bad-store", .badWrite),
    ("misaligned", .misalignedAccess), ("bad-fetch", .badFetch), ("abort", .abort),
  ]

  /// Round `round`'s way to crash, and the kind the report must name.
  static func method(_ round: Int, of rounds: Int) -> (Method, CrashReport.Kind) {
    if round == rounds / 2 { return (.hang, .watchdog) }
    let (command, kind) = kinds[round % kinds.count]
    switch round % 3 {
    case 0: return (.serial(command), kind)
    case 1: return (.rpmsg(command), kind)
    default: return (.kick30, .badWrite)
    }
  }

  struct Census: CustomStringConvertible {
    var threads: Int
    var ownerThreads: Int
    var fileDescriptors: Int
    var mappings: Int
    var memfdMappings: Int
    var resident: Int
    var carveouts: [String]

    init(_ core: EndToEndRig.Core) async {
      let names = ProcessCensus.threadNames()
      threads = names.count
      ownerThreads = names.filter { $0 == core.core.ownerThreadName }.count
      fileDescriptors = ProcessCensus.openFileDescriptors()
      let maps = ProcessCensus.mappings()
      mappings = maps.count
      memfdMappings = maps.filter { $0.contains("/memfd:") }.count
      resident = ProcessCensus.residentBytes()
      carveouts = await core.processor.carveouts.map {
        "\($0.name)@0x\(String($0.deviceAddress, radix: 16))+\($0.length)"
      }
    }

    var description: String {
      "\(threads) threads (\(ownerThreads) owner), \(fileDescriptors) fds, \(mappings) mappings "
        + "(\(memfdMappings) memfd), \(resident >> 20) MiB resident, \(carveouts.count) carveouts"
    }
  }

  /// The serial port inverts and the rpmsg-crashy channel echoes.
  static func checkAlive(_ rig: EndToEndRig, _ core: EndToEndRig.Core, _ round: Int) async throws {
    let line = Array("Ping \(round) from the Host\n".utf8)
    #expect(try await rig.exchange(core, line, replyCount: line.count) == caseInverted(line),
            "serial after round \(round)")
    let message = Array("echo \(round)".utf8)
    #expect(try await rig.crashyEcho(core, message) == message, "rpmsg after round \(round)")
  }

  static func crashAndRecover(on machine: EmulatedMachine, rounds: Int) async throws {
    try await withRig { rig in
      let core = try await rig.add(
        "crashy-\(machine.name).elf", on: machine, core: .init(watchdogTimeout: .milliseconds(250)))
      let reports = LineLog()
      let events = rig.registry.events.subscribe()
      let listener = Task {
        for await event in events {
          if case .crashed(_, _, let details) = event { reports.append(details) }
        }
      }
      defer { listener.cancel() }
      try await core.processor.boot()
      try await checkAlive(rig, core, 0)

      func crash(_ method: Method, _ kind: CrashReport.Kind, count: Int) async throws {
        switch method {
        case .serial(let command): try await rig.port(core).write(Array("\(command)\n".utf8), timeout: .seconds(5))
        case .rpmsg(let command): try await rig.crashyEndpoint(core).send(Array(command.utf8), timeout: .seconds(5))
        case .kick30: core.platform.kick(notifyID: 30)
        case .hang: try await rig.port(core).write(Array("hang\n".utf8), timeout: .seconds(5))
        }
        try await until("recovery \(count) (\(method))") {
          let crashes = await core.processor.crashCount
          let state = await core.processor.state
          return crashes == count && state == .running
        }
        try await until("the report of crash \(count)") { reports.all.count >= count }
        let details = reports.all[count - 1]
        #expect(details.hasPrefix(kind.rawValue), "crash \(count) by \(method): \(details)")
      }

      // Two warm-up recoveries: threads and mappings made lazily exist before the census.
      for warm in 1...2 {
        try await crash(.kick30, .badWrite, count: warm)
        try await checkAlive(rig, core, -warm)
      }
      let before = await Census(core)
      #expect(before.ownerThreads == 1)
      for round in 1...rounds {
        let (method, kind) = Self.method(round, of: rounds)
        try await crash(method, kind, count: 2 + round)
        try await checkAlive(rig, core, round)
        #expect(ProcessCensus.threadNames().filter { $0 == core.core.ownerThreadName }.count == 1)
      }
      let after = await Census(core)
      #expect(await core.processor.crashCount == 2 + rounds)
      #expect(await core.processor.ignoredCrashReports == 0)
      #expect(after.ownerThreads == 1, "\(before) → \(after)")
      // Thread pools (Swift's, Dispatch's) may start or retire a thread; one leaked per
      // recovery would add 50.
      #expect(after.threads <= before.threads + 2, "\(before) → \(after)")
      #expect(after.fileDescriptors == before.fileDescriptors, "\(before) → \(after)")
      #expect(after.memfdMappings == before.memfdMappings, "\(before) → \(after)")
      // malloc may map or unmap an arena or a large block; one leaked per recovery adds 50.
      #expect(after.mappings <= before.mappings + 8, "\(before) → \(after)")
      #expect(after.resident - before.resident < 32 << 20, "\(before) → \(after)")
      #expect(after.carveouts == before.carveouts, "the same carveouts, reused by every recovery")

      try await core.processor.shutdown()
      let down = await Census(core)
      #expect(down.ownerThreads == 0 && down.carveouts.isEmpty, "\(down)")
      #expect(down.fileDescriptors == before.fileDescriptors, "\(before) → \(down)")
      #expect(core.core.state == .offline)
    }
  }
}
