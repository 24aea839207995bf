import Foundation
import RPMsg
import Remoteproc
import RemoteprocProcess
import RemoteprocTesting
import Testing

/// Attach after a host restart: the firmware keeps running; the next host finds it through
/// the state file and `/proc/<pid>/fd`, adopts its memory and rings from the live table, and
/// talks to it again, without loading anything.
@Suite(.serialized) struct ProcessAttachTests {
  func roundTrip(_ host: ProcessHost, _ text: String) async throws {
    let channel = try await host.channel("rpmsg-tty")
    try await channel.send(Array(text.utf8))
    try await eventually("echo of \(text)") { host.probe.messages.contains(Array(text.utf8)) }
  }

  @Test(arguments: ["rpmsg-echo-native.elf", "rpmsg-echo-remote"])
  func aNewHostAttachesToAFirmwareWhoseHostDied(firmware: String) async throws {
    let name = "attach-\(UUID().uuidString.prefix(8))"
    let first = try await ProcessHost(firmware: firmware, name: name)
    var second: ProcessHost?
    do {
      try await first.processor.boot()
      try await roundTrip(first, "before")
      let pid = try #require(first.platform.processID)
      let vrings = await first.processor.carveouts.filter { $0.name.contains("vring") }.map(\.deviceAddress)
      // The first host dies: its threads are gone, nothing was reset or written.
      first.platform.simulateHostExit()

      let next = try await ProcessHost(firmware: firmware, name: name, stateDirectory: first.stateDirectory)
      second = next
      #expect(next.platform.isRunningAtRegistration)
      #expect(await next.processor.state == .detached)
      try await next.processor.boot()
      #expect(await next.processor.state == .attached)
      #expect(next.platform.processID == pid)
      // Rings adopted where the live table says they are.
      #expect(await next.processor.carveouts.filter { $0.name.contains("vring") }.map(\.deviceAddress) == vrings)
      try await roundTrip(next, "after")
      try await next.processor.shutdown()
      #expect(!processExists(pid))
    } catch {
      await second?.close()
      await first.close()
      throw error
    }
    await second?.close()
    await first.close()
  }

  @Test func aDetachedFirmwareKeepsRunningAndIsAttachedAgain() async throws {
    let name = "detach-\(UUID().uuidString.prefix(8))"
    let first = try await ProcessHost(firmware: "rpmsg-echo-native.elf", name: name)
    var second: ProcessHost?
    var pid: Int32 = 0
    do {
      try await first.processor.boot()
      try await roundTrip(first, "one")
      pid = try #require(first.platform.processID)
      try await first.processor.detach()
      #expect(await first.processor.state == .detached)
      #expect(processExists(pid))
      // The same host attaches again…
      try await first.processor.boot()
      #expect(await first.processor.state == .attached)
      try await roundTrip(first, "two")
      try await first.processor.detach()
      await first.registry.remove(first.processor)
      // …and so does the next one, through the state file.
      let next = try await ProcessHost(firmware: "rpmsg-echo-native.elf", name: name, stateDirectory: first.stateDirectory)
      second = next
      try await next.processor.boot()
      #expect(next.platform.processID == pid)
      try await roundTrip(next, "three")
    } catch {
      await second?.close()
      await first.close()
      throw error
    }
    await second?.close()
    await first.close()
    #expect(!processExists(pid))
  }

  @Test func aStaleStateFileIsIgnored() async throws {
    let name = "stale-\(UUID().uuidString.prefix(8))"
    let first = try await ProcessHost(firmware: "rpmsg-echo-native.elf", name: name)
    do {
      try await first.processor.boot()
      let pid = try #require(first.platform.processID)
      first.platform.simulateHostExit()
      _ = kill(pid, SIGKILL)
      try await eventually("the firmware's end") { !processExists(pid) }
      let next = try await ProcessHost(firmware: "rpmsg-echo-native.elf", name: name, stateDirectory: first.stateDirectory)
      #expect(!next.platform.isRunningAtRegistration)
      #expect(await next.processor.state == .offline)
      await next.close()
    } catch {
      await first.close()
      throw error
    }
    await first.close()
  }
}

@Suite(.serialized) struct ProcessCPUTests {
  @Test func theRemoteIsPinnedAndTheHostLeavesItsCPU() async throws {
    let count = ProcessInfo.processInfo.activeProcessorCount
    guard count >= 2 else { return }  // one CPU: nothing can be given away
    let cpu = count - 1
    // Emulated cores' CPU tests (another target, same process) take the same CPU: one at a time.
    try await HostCPUTestLock.withLock { try await pinsTheRemoteAndMovesTheHost(cpu: cpu) }
  }

  func pinsTheRemoteAndMovesTheHost(cpu: Int) async throws {
    let host = try await ProcessHost(firmware: "rpmsg-echo-native.elf", options: .init(cpus: [cpu]))
    do {
      try await host.processor.boot()
      let pid = try #require(host.platform.processID)
      #expect(allowedCPUs("/proc/\(pid)") == "\(cpu)")
      let threads = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task")) ?? []
      for tid in threads {
        let list = allowedCPUs("/proc/self/task/\(tid)") ?? ""
        #expect(!cpuList(list).contains(cpu), "thread \(tid) may still run on CPU \(cpu): \(list)")
      }
      // Another remote cannot have the same CPU.
      let other = try await ProcessHost(firmware: "rpmsg-echo-native.elf", options: .init(cpus: [cpu]))
      let error = await #expect(throws: RemoteprocError.self) { try await other.processor.boot() }
      #expect(error?.message.contains("already given to") == true)
      await other.close()
      try await host.processor.shutdown()
      #expect(cpuList(allowedCPUs("/proc/self/task/\(getpid())") ?? "").contains(cpu))
    } catch {
      await host.close()
      throw error
    }
    await host.close()
  }

  func cpuList(_ text: String) -> Set<Int> {
    var cpus = Set<Int>()
    for part in text.split(separator: ",") {
      let bounds = part.split(separator: "-").compactMap { Int($0) }
      if let first = bounds.first, let last = bounds.last { cpus.formUnion(first...last) }
    }
    return cpus
  }
}

@Suite struct NativeFirmwareOutsideAHostTests {
  @Test(arguments: ["firmware/build/rpmsg-echo-native.elf", "rpmsg-echo-remote"])
  func aFirmwareStartedByHandSaysWhyItCannotRun(path: String) throws {
    try #require(NativeFirmware.built)
    let process = Process()
    process.executableURL =
      path.hasPrefix("firmware/")
      ? NativeFirmware.repository.appendingPathComponent(path)
      : URL(fileURLWithPath: NativeFirmware.productsDirectory).appendingPathComponent(path)
    var environment = ProcessInfo.processInfo.environment
    environment["RPROC_SHM_FD"] = nil
    process.environment = environment
    let error = Pipe()
    process.standardError = error
    process.standardOutput = FileHandle.nullDevice
    try process.run()
    let text = String(decoding: error.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    #expect(process.terminationStatus == 2)
    #expect(text.contains("RPROC_SHM_FD is not set"), "\(text)")
  }
}
