import Foundation
import RPMsg
import Remoteproc
import RemoteprocProcess
import Synchronization
import Testing

/// The live (not zombie) processes whose `argv[0]` is `name`: a platform's firmware processes
/// are called "remoteproc-<its number>".
func processes(named name: String) -> [Int32] {
  let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
  return entries.compactMap { Int32($0) }.filter { pid in
    guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return false }
    return data.split(separator: 0).first.map { String(decoding: $0, as: UTF8.self) } == name && processExists(pid)
  }
}

/// Waits for the processor's next crash event.
func nextCrash(_ events: AsyncStream<RemoteprocEvent>) async -> (CrashType, String)? {
  for await event in events {
    if case .crashed(_, let type, let details) = event { return (type, details) }
  }
  return nil
}

@Suite(.serialized) struct ProcessBadInputTests {
  @Test func badCPUListsAreRefusedWithAReason() throws {
    let count = ProcessInfo.processInfo.activeProcessorCount
    let cases: [([Int], String)] = [
      ([-1], "not a CPU number"),
      ([4096], "not a CPU number"),
      ([0, 0], "listed twice"),
      ([255], count < 256 ? "does not exist" : ""),
      (Array(0..<count), "leave the host no CPU"),
    ]
    for (cpus, reason) in cases where !reason.isEmpty {
      let error = try #require(throws: RemoteprocError.self) {
        _ = try ProcessPlatform(name: "bad-cpus", options: .init(cpus: cpus))
      }
      #expect(error.code == .invalidArgument)
      #expect(error.message.contains(reason), "\(cpus): \(error.message)")
    }
  }

  @Test func badNamesAndSizesAreRefused() {
    for name in ["", "../x", "a/b", ".hidden", String(repeating: "n", count: 65)] {
      #expect(throws: RemoteprocError.self) { _ = try ProcessPlatform(name: name) }
    }
    for size in [0, 4096, 0x5000 + 1, 0x1_0000_0000] {
      #expect(throws: RemoteprocError.self) { _ = try ProcessPlatform(name: "size", options: .init(memorySize: size)) }
    }
  }

  @Test func aMissingExecutableIsRefusedWithItsName() async throws {
    let host = try await ProcessHost(firmware: "no-such-firmware.elf")
    let error = await #expect(throws: RemoteprocError.self) { try await host.processor.boot() }
    #expect(error?.message.contains("no-such-firmware.elf") == true)
    #expect(await host.processor.state == .offline)
    await host.close()
  }

  @Test func anImageForAnotherMachineIsRefused() async throws {
    let host = try await ProcessHost(firmware: "rpmsg-echo-mips32.elf")
    let error = await #expect(throws: RemoteprocError.self) { try await host.processor.boot() }
    #expect(error?.code == .malformedFirmware)
    #expect(error?.message.contains("cannot run as a native process") == true)
    await host.close()
  }

  @Test func aFirmwareThatNeverAcknowledgesIsStoppedAndReported() async throws {
    let host = try await ProcessHost(firmware: "crashy-mute-native.elf", options: .init(startTimeout: .milliseconds(500)))
    let error = await #expect(throws: RemoteprocError.self) { try await host.processor.boot() }
    #expect(error?.code == .timedOut)
    #expect(error?.message.contains("did not acknowledge start-up") == true)
    #expect(host.platform.processID == nil)
    #expect(processes(named: host.platform.processName).isEmpty)
    #expect(await host.processor.state == .offline)
    await host.close()
  }

  @Test func aProgramThatIsNotAFirmwareExitsAndIsReported() async throws {
    // pingpong-native has no SDK: run without its arguments it prints its usage and exits 64.
    let host = try await ProcessHost(firmware: "pingpong-native")
    let error = await #expect(throws: RemoteprocError.self) { try await host.processor.boot() }
    #expect(error?.message.contains("exited with status 64 before it acknowledged start-up") == true)
    await host.close()
  }

  @Test(arguments: [
    ("bad-store", CrashType.mmuFault, "SIGSEGV"), ("bad-load", .mmuFault, "SIGSEGV"),
    ("bad-fetch", .mmuFault, "SIGSEGV"), ("misaligned", .mmuFault, "SIGSEGV"),
    ("invalid-instruction", .fatalError, "SIGILL"), ("abort", .fatalError, "rproc_abort(0xc0ffee)"),
    ("exit", .fatalError, "exited with status 3"),
  ])
  func crashesAreMappedFromTheWayTheProcessEnded(command: String, type: CrashType, detail: String) async throws {
    var options = RemoteProcessor.Options()
    options.recoveryDisabled = true
    let host = try await ProcessHost(firmware: "crashy-native.elf", processorOptions: options)
    let events = host.registry.events.subscribe()
    do {
      try await host.processor.boot()
      let pid = try #require(host.platform.processID)
      let channel = try await host.channel("rpmsg-crashy")
      try await channel.send(Array(command.utf8))
      let crash = await nextCrash(events)
      #expect(crash?.0 == type, "\(command): \(crash.map { "\($0)" } ?? "none")")
      #expect(crash?.1.contains(detail) == true, "\(command): \(crash?.1 ?? "")")
      #expect(await host.processor.state == .crashed)
      #expect(!processExists(pid))
    } catch {
      await host.close()
      throw error
    }
    await host.close()
  }

  @Test func aHungFirmwareIsCaughtByTheWatchdogAndRecovered() async throws {
    let host = try await ProcessHost(firmware: "crashy-native.elf", options: .init(watchdog: .milliseconds(300)))
    let events = host.registry.events.subscribe()
    do {
      try await host.processor.boot()
      let first = try #require(host.platform.processID)
      try await host.channel("rpmsg-crashy").send(Array("hang".utf8))
      let crash = await nextCrash(events)
      #expect(crash?.0 == .watchdog)
      #expect(crash?.1.contains("heartbeat") == true)
      // Recovery kills the hung process and starts a new one, which answers again.
      try await eventually("recovery") {
        await host.processor.state == .running && host.platform.processID != first
      }
      #expect(!processExists(first))
      let channel = try await host.channel("rpmsg-crashy")
      try await channel.send(Array("still there?".utf8))
      try await eventually("echo") { host.probe.messages.contains(Array("still there?".utf8)) }
    } catch {
      await host.close()
      throw error
    }
    await host.close()
  }

  @Test func garbageInTheRingsIsACrashOfThatProcessorAndRecovered() async throws {
    let host = try await ProcessHost(firmware: "crashy-native.elf")
    let events = host.registry.events.subscribe()
    do {
      try await host.processor.boot()
      let first = try #require(host.platform.processID)
      try await host.channel("rpmsg-crashy").send(Array("garbage-index".utf8))
      let crash = await nextCrash(events)
      #expect(crash?.0 == .fatalError)
      #expect(crash?.1.contains("rpmsg transport broken") == true, "\(crash?.1 ?? "")")
      try await eventually("recovery") {
        await host.processor.state == .running && host.platform.processID != first
      }
      let channel = try await host.channel("rpmsg-crashy")
      try await channel.send(Array("after".utf8))
      try await eventually("echo") { host.probe.messages.contains(Array("after".utf8)) }
      #expect(host.bus?.transportError == nil)
    } catch {
      await host.close()
      throw error
    }
    await host.close()
  }

  @Test func stopEscalatesToSIGKILLWhenSIGTERMIsIgnored() async throws {
    let host = try await ProcessHost(firmware: "crashy-native.elf", options: .init(stopGracePeriod: .milliseconds(200)))
    do {
      try await host.processor.boot()
      let pid = try #require(host.platform.processID)
      try await host.channel("rpmsg-crashy").send(Array("ignore-term".utf8))
      try await eventually("SIGTERM ignored") { await host.trace().contains("ignoring SIGTERM") }
      try await host.processor.shutdown()
      #expect(!processExists(pid))
      #expect(await host.processor.state == .offline)
    } catch {
      await host.close()
      throw error
    }
    await host.close()
  }
}
