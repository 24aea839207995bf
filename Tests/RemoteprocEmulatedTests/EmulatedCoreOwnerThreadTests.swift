import RemoteprocEmulated
import Synchronization
import Testing

/// Single-thread mode: host work on the owner thread (perform, the guestKicked handler),
/// kicks from there, and the profiling counters.
@Suite(.enabled(if: FirmwareImages.canRun))
struct EmulatedCoreOwnerThreadTests {
  final class Record: Sendable {
    let entries = Mutex<[(Int, Bool)]>([])
  }

  /// What work for idle time saw: the guest's idle count each time, and any run that was
  /// not on the owner thread.
  final class IdleRuns: Sendable {
    let idles = Mutex<[UInt64]>([])
    let offOwnerThread = Atomic<Int>(0)
  }

  @Test(arguments: EmulatedMachine.all)
  func performRunsQueuedWorkOnTheOwnerThreadInOrder(machine: EmulatedMachine) throws {
    let host = try HandHost("case-invert", on: machine)
    #expect(throws: EmulationError.self) { try host.core.perform {} }  // not running yet
    try host.start()
    try host.waitForTrace("hello")
    #expect(!host.core.isOwnerThread)
    let record = Record()
    let core = host.core
    for n in 0..<10 {
      try core.perform { record.entries.withLock { $0.append((n, core.isOwnerThread)) } }
    }
    eventually("the work to run") { record.entries.withLock { $0.count } == 10 }
    let entries = record.entries.withLock { $0 }
    #expect(entries.map(\.0) == Array(0..<10))
    #expect(entries.allSatisfy { $0.1 }, "every closure ran on the owner thread")
    #expect(core.statistics.hostWorkRuns >= 1)
    host.core.stop()
    #expect(throws: EmulationError.self) { try host.core.perform {} }
  }

  /// A chain of exchanges driven from the guest's doorbell handler: each reply's handler sends
  /// the next string and kicks from the owner thread. With no idle polling, a cross-thread
  /// kick to an idle guest would cost a futex sleep each time; here the guest never waits.
  @Test(arguments: EmulatedMachine.all)
  func kicksFromTheOwnerThreadNeedNoWakeUp(machine: EmulatedMachine) throws {
    let host = try HandHost("case-invert", on: machine, options: .init(watchdogTimeout: nil, idleSpin: .zero))
    try host.start()
    let port = try HostVirtio(host, ordinal: 0, bufferSize: 512, acceptedFeatures: 1 << 29)
    try host.waitForTrace("serial: up")
    let lines = (0..<50).map { Array("Line \($0) of Fifty\n".utf8) }
    host.events.handlers.withLock {
      $0[port.rxNotifyID] = { [weak port] in
        guard let port else { return }
        port.drainRx()
        let count = port.received.withLock { $0.count }
        if count < lines.count { try? port.send(lines[count]) }
      }
    }
    let before = host.core.statistics
    try host.core.perform { try? port.send(lines[0]) }
    eventually("fifty replies") { port.received.withLock { $0.count } == lines.count }
    let after = host.core.statistics
    #expect(port.received.withLock { $0 } == lines.map(invertedCase))
    #expect(after.kicks - before.kicks >= UInt64(lines.count))
    // The guest never waited for a kick during the chain (50 exchanges): it idles after the
    // last reply, and perhaps once more at the end of its start-up if that came after
    // `before` was read (a busy machine delays the guest's first wait).
    #expect(after.idles - before.idles <= 2)
    #expect(after.sleeps - before.sleeps <= 2)
    #expect(host.events.firstCrash == nil)
    host.core.stop()
  }

  /// The same chain, but each next string waits for the guest to idle (`performWhenIdle`):
  /// every exchange then starts with the firmware in wait/wfi, so each takes a kick and an
  /// interrupt, and the work always finds more idles than the last time it ran.
  @Test(arguments: EmulatedMachine.all)
  func workForIdleTimeRunsOnlyOnceTheGuestHasIdled(machine: EmulatedMachine) throws {
    let host = try HandHost("case-invert", on: machine, options: .init(watchdogTimeout: nil))
    #expect(throws: EmulationError.self) { try host.core.performWhenIdle {} }  // not running yet
    try host.start()
    let port = try HostVirtio(host, ordinal: 0, bufferSize: 512, acceptedFeatures: 1 << 29)
    try host.waitForTrace("serial: up")
    let lines = (0..<30).map { Array("Idle line \($0)\n".utf8) }
    let core = host.core
    let runs = IdleRuns()
    @Sendable func sendWhenIdle(_ line: [UInt8]) {
      try? core.performWhenIdle {
        if !core.isOwnerThread { runs.offOwnerThread.add(1, ordering: .relaxed) }
        runs.idles.withLock { $0.append(core.statistics.idles) }
        try? port.send(line)
      }
    }
    host.events.handlers.withLock {
      $0[port.rxNotifyID] = { [weak port] in
        guard let port else { return }
        port.drainRx()
        let count = port.received.withLock { $0.count }
        if count < lines.count { sendWhenIdle(lines[count]) }
      }
    }
    let before = core.statistics
    sendWhenIdle(lines[0])
    eventually("thirty replies") { port.received.withLock { $0.count } == lines.count }
    let after = core.statistics
    #expect(port.received.withLock { $0 } == lines.map(invertedCase))
    #expect(runs.offOwnerThread.load(ordering: .relaxed) == 0)
    let idles = runs.idles.withLock { $0 }
    #expect(idles.count == lines.count)
    #expect(zip(idles, idles.dropFirst()).allSatisfy { $0 < $1 }, "each run found a new idle: \(idles)")
    // This hand-made driver kicks for each send and each receive buffer it gives back.
    #expect(after.kicks - before.kicks >= UInt64(lines.count))
    #expect(after.interruptsDelivered - before.interruptsDelivered >= UInt64(lines.count))
    #expect(after.idles - before.idles >= UInt64(lines.count))
    #expect(host.events.firstCrash == nil)
    core.stop()
    #expect(throws: EmulationError.self) { try core.performWhenIdle {} }
    host.events.handlers.withLock { $0.removeAll() }  // the handler holds the core and the port
  }

  @Test func profilingCountsInstructionsGuestTimeAndStoresOnlyWhenAsked() throws {
    let profiled = try HandHost(
      "case-invert", on: .riscv32,
      options: .init(countsInstructions: true, measuresGuestTime: true, countsStores: true))
    let plain = try HandHost("case-invert", on: .riscv32)
    for host in [profiled, plain] {
      try host.start()
      try host.waitForTrace("hello")
      eventually("the guest to idle") { host.core.statistics.idles > 0 }
      host.core.stop()
    }
    #expect(profiled.core.statistics.instructions > profiled.core.statistics.blocks)
    #expect(profiled.core.statistics.guestTime > .zero)
    // Boot clears the BSS and writes the trace: stores, none of them to a page that runs code
    // (the SDK's linker scripts keep data on pages of its own).
    #expect(profiled.core.statistics.stores > 0)
    #expect(profiled.core.statistics.codePageStores == 0)
    #expect(plain.core.statistics.instructions == 0)
    #expect(plain.core.statistics.guestTime == .zero)
    #expect(plain.core.statistics.stores == 0 && plain.core.statistics.codePageStores == 0)
  }
}
