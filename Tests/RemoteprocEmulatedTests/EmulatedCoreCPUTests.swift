import Foundation
import RemoteprocEmulated
import RemoteprocTesting
import Synchronization
import Testing

/// `cpus` on an emulated core: the owner thread runs on the CPUs only and every other thread
/// of the process leaves them from start until the run ends (stop or crash); a second core
/// cannot have them meanwhile.
///
/// Taking a CPU moves every thread of the test process, so these tests hold
/// `HostCPUTestLock` (other targets' CPU tests wait) and are short. They take the last CPU
/// this process may use: CPU 1 on a 2-CPU machine.
@Suite(.enabled(if: FirmwareImages.canRun), .serialized)
struct EmulatedCoreCPUTests {
  static let cpu: Int? = {
    let allowed = cpuList(allowedCPUs("/proc/self") ?? "")
    return allowed.count >= 2 ? allowed.max() : nil
  }()

  @Test(.enabled(if: cpu != nil, "one CPU: none can be taken from the host"))
  func theOwnerThreadRunsOnItsCPUsAndTheHostLeavesThem() async throws {
    let cpu = try #require(Self.cpu)
    try await HostCPUTestLock.withLock {
      let host = try HandHost("case-invert", on: .riscv32, options: .init(cpus: [cpu]), name: "first")
      try host.start()
      try host.waitForTrace("hello")
      let owner = try #require(host.core.ownerThreadID)
      #expect(allowedCPUs("/proc/self/task/\(owner)") == "\(cpu)")
      for tid in threads() where tid != owner {
        let list = cpuList(allowedCPUs("/proc/self/task/\(tid)") ?? "")
        let comm = (try? String(contentsOfFile: "/proc/self/task/\(tid)/comm", encoding: .utf8)) ?? "?"
        #expect(!list.contains(cpu), "thread \(tid) \(comm) may still run on CPU \(cpu): \(list.sorted())")
      }

      // Another core cannot have the CPU while the first runs, and says who has it.
      let second = try HandHost("case-invert", on: .riscv32, options: .init(cpus: [cpu]), name: "second")
      let refusal = try #require(throws: EmulationError.self) { try second.start() }
      #expect(refusal.code == .cpusTaken)
      #expect(refusal.message == "cpus: CPU \(cpu) is already given to first")
      #expect(second.core.state == .offline)

      host.core.stop()
      #expect(host.core.ownerThreadID == nil)
      for tid in threads() {
        // A thread that ended since the listing has no status to read.
        guard let allowed = allowedCPUs("/proc/self/task/\(tid)") else { continue }
        let list = cpuList(allowed)
        #expect(list.contains(cpu), "thread \(tid) did not get CPU \(cpu) back: \(list.sorted())")
      }
      // Given back: the second core may have it now.
      try second.start()
      try second.waitForTrace("hello")
      #expect(allowedCPUs("/proc/self/task/\(try #require(second.core.ownerThreadID))") == "\(cpu)")
      second.core.stop()
    }
  }

  /// Zeroed memory is an illegal instruction on RV32: the guest crashes at its first
  /// instruction, and the CPUs are the host's again before the crash is reported.
  @Test(.enabled(if: cpu != nil, "one CPU: none can be taken from the host"))
  func aCrashedGuestGivesItsCPUsBack() async throws {
    let cpu = try #require(Self.cpu)
    try await HostCPUTestLock.withLock {
      let core = try EmulatedCore(machine: .riscv32, options: .init(watchdogTimeout: nil, cpus: [cpu]))
      let handedBack = Mutex<Bool?>(nil)
      try core.start(
        entry: 0x8000_0000,
        events: .init(
          guestKicked: { _ in },
          crashed: { _ in
            handedBack.withLock { $0 = cpuList(allowedCPUs("/proc/self") ?? "").contains(cpu) }
          }))
      eventually("the crash") { handedBack.withLock { $0 } != nil }
      #expect(handedBack.withLock { $0 } == true, "the main thread had CPU \(cpu) back when the crash was reported")
      guard case .crashed(let report) = core.state else {
        Issue.record("expected a crash, the core is \(core.state)")
        return
      }
      #expect(report.kind == .invalidInstruction)
      // Nobody holds the CPU any more: another core takes it before this one is stopped.
      let other = try EmulatedCore(machine: .riscv32, options: .init(watchdogTimeout: nil, cpus: [cpu]))
      try other.start(entry: 0x8000_0000, events: .init(guestKicked: { _ in }, crashed: { _ in }))
      eventually("the other crash") { if case .crashed = other.state { true } else { false } }
      other.stop()
      core.stop()
    }
  }

  /// A thread the host creates from the owner thread (here in `perform`; a thread pool grown
  /// from a handler, in life) is born on the owner thread's CPUs and moved off them by the
  /// next sweep.
  @Test(.enabled(if: cpu != nil, "one CPU: none can be taken from the host"))
  func aThreadCreatedOnTheOwnerThreadIsMovedOffTheCPUs() async throws {
    let cpu = try #require(Self.cpu)
    try await HostCPUTestLock.withLock {
      let host = try HandHost("case-invert", on: .riscv32, options: .init(cpus: [cpu]))
      try host.start()
      try host.waitForTrace("hello")
      let child = Mutex<Int32?>(nil)
      let done = DispatchSemaphore(value: 0)
      try host.core.perform {
        Thread.detachNewThread {
          let tid = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/thread-self"))
            .flatMap { $0.split(separator: "/").last.flatMap { Int32($0) } }
          child.withLock { $0 = tid ?? -1 }
          done.wait()
        }
      }
      eventually("the thread to start") { child.withLock { $0 } != nil }
      let tid = try #require(child.withLock { $0 })
      #expect(tid > 0)
      eventually("the sweep to move thread \(tid) off CPU \(cpu)", seconds: 5) {
        let list = cpuList(allowedCPUs("/proc/self/task/\(tid)") ?? "")
        return !list.isEmpty && !list.contains(cpu)
      }
      #expect(allowedCPUs("/proc/self/task/\(try #require(host.core.ownerThreadID))") == "\(cpu)")
      done.signal()
      host.core.stop()
    }
  }

  @Test func badCPUListsAreRefusedWithAReason() throws {
    let count = cpuList(allowedCPUs("/proc/self") ?? "").count
    let present = cpuList((try? String(contentsOfFile: "/sys/devices/system/cpu/present", encoding: .utf8)) ?? "")
    let cases: [([Int], String)] = [
      ([-1], "-1 is not a CPU number"),
      ([4096], "4096 is not a CPU number"),
      ([0, 0], "CPU 0 is listed twice"),
      ([255], present.contains(255) ? "" : "CPU 255 does not exist here"),
      (Array(present.sorted()), count == present.count ? "would leave the host no CPU" : ""),
    ]
    for (cpus, reason) in cases where !reason.isEmpty {
      let error = try #require(throws: EmulationError.self) {
        _ = try EmulatedCore(machine: .riscv32, options: .init(cpus: cpus))
      }
      #expect(error.code == .invalidCPUs)
      #expect(error.message.contains(reason), "\(cpus): \(error.message)")
    }
    // Checked and sorted.
    if count >= 2 {
      let last = try #require(cpuList(allowedCPUs("/proc/self") ?? "").max())
      #expect(try EmulatedCore(machine: .riscv32, options: .init(cpus: [last])).options.cpus == [last])
    }
  }
}

/// `Cpus_allowed_list` of `/proc/self`, `/proc/self/task/<tid>` or `/proc/<pid>`.
func allowedCPUs(_ path: String) -> String? {
  guard let text = try? String(contentsOfFile: "\(path)/status", encoding: .utf8) else { return nil }
  for line in text.split(separator: "\n") where line.hasPrefix("Cpus_allowed_list:") {
    return line.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)
  }
  return nil
}

/// A Linux cpu list ("0-1,3") as a set.
func cpuList(_ text: String) -> Set<Int> {
  var cpus = Set<Int>()
  for part in text.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: ",") {
    let bounds = part.split(separator: "-").compactMap { Int($0) }
    if let first = bounds.first, let last = bounds.last, first <= last { cpus.formUnion(first...last) }
  }
  return cpus
}

/// This process's threads (`/proc/self/task`).
func threads() -> [Int32] {
  ((try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task")) ?? []).compactMap { Int32($0) }
}
