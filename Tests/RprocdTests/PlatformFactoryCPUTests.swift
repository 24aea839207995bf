import DaemonConfiguration
import Foundation
import Glibc
import Remoteproc
import RemoteprocEmulated
import RemoteprocHost
import RemoteprocProcess
import RemoteprocTesting
import Testing

/// `cpus` in rprocd's configuration reaches every platform, and the two platforms share one
/// registry: a CPU an emulated core holds cannot go to a process core, and the other way round.
@Suite(.enabled(if: Repository.built, Repository.skipReason), .serialized, .timeLimit(.minutes(1)))
struct PlatformFactoryCPUTests {
  /// The last CPU this process may use (CPU 1 on a 2-CPU machine); nil with one.
  static let cpu: Int? = {
    let count = ProcessInfo.processInfo.activeProcessorCount
    return count >= 2 ? count - 1 : nil
  }()

  static func configuration(cpu: Int, stateDirectory: String) throws -> DaemonConfiguration {
    try DaemonConfiguration.parse(
      """
      [processor.remoteproc0]
      platform = "emulated"
      machine = "rv32"
      firmware-directory = "\(Repository.firmware)"
      firmware = "rpmsg-echo-rv32.elf"
      cpus = "\(cpu)"

      [processor.remoteproc1]
      platform = "process"
      firmware-directory = "\(Repository.firmware)"
      firmware = "rpmsg-echo-native.elf"
      cpus = \(cpu)
      state-directory = "\(stateDirectory)"
      """, format: .toml, file: "cpus.toml", baseDirectory: "/")
  }

  @Test(.enabled(if: cpu != nil, "one CPU: none can be taken from the host"))
  func anEmulatedAndAProcessCoreCannotHoldTheSameCPU() async throws {
    let cpu = try #require(Self.cpu)
    let state = FileManager.default.temporaryDirectory.appendingPathComponent("rprocd-cpus-\(UUID().uuidString)").path
    defer { try? FileManager.default.removeItem(atPath: state) }
    let configuration = try Self.configuration(cpu: cpu, stateDirectory: state)
    let emulated = try #require(try PlatformFactory.makePlatform(for: configuration.processors[0]) as? EmulatedPlatform)
    #expect(emulated.core.options.cpus == [cpu])
    #expect(emulated.core.name == "remoteproc0")
    let process = try #require(try PlatformFactory.makePlatform(for: configuration.processors[1]) as? ProcessPlatform)
    #expect(process.options.cpus == [cpu])

    try await HostCPUTestLock.withLock {
      let registry = RemoteprocRegistry()
      let store = FirmwareStore(directories: [Repository.firmware])
      let rv32 = await registry.add(
        name: "rv32", firmware: "rpmsg-echo-rv32.elf", platform: emulated, firmwareStore: store
      ).processor
      let native = await registry.add(
        name: "native", firmware: "rpmsg-echo-native.elf", platform: process, firmwareStore: store
      ).processor
      defer { if let pid = process.processID { kill(pid, SIGKILL) } }

      try await rv32.boot()
      let owner = try #require(emulated.core.ownerThreadID)
      #expect(Self.allowedCPUs("/proc/self/task/\(owner)") == "\(cpu)")
      let refused = await #expect(throws: RemoteprocError.self) { try await native.boot() }
      #expect(refused?.code == .busy)
      #expect(refused?.message.contains("cpus: CPU \(cpu) is already given to remoteproc0") == true, "\(refused?.message ?? "")")
      try await rv32.shutdown()

      try await native.boot()
      let pid = try #require(process.processID)
      #expect(Self.allowedCPUs("/proc/\(pid)") == "\(cpu)")
      let refusedToo = await #expect(throws: RemoteprocError.self) { try await rv32.boot() }
      #expect(refusedToo?.code == .busy)
      #expect(
        refusedToo?.message == "emulated rv32: cpus: CPU \(cpu) is already given to remoteproc1", "\(refusedToo?.message ?? "")")
      try await native.shutdown()
    }
  }

  @Test func aCPUTheCoreCannotHaveIsRefusedWhenThePlatformIsMade() throws {
    let all = CPUSet.present
    guard all.cpus.count >= 2 else { return }
    // Every CPU, as the configuration's own check sees them (`availableCPUs` larger than
    // the machine, so only the platform can refuse it).
    let configuration = try DaemonConfiguration.parse(
      """
      [processor.remoteproc0]
      platform = "emulated"
      machine = "rv32"
      firmware = "rpmsg-echo-rv32.elf"
      cpus = "\(all)"
      """, format: .toml, file: "cpus.toml", baseDirectory: "/", availableCPUs: CPUSet(0..<1024))
    let error = try #require(throws: PlatformFactoryError.self) {
      _ = try PlatformFactory.makePlatform(for: configuration.processors[0])
    }
    #expect(error.key == "processor.remoteproc0")
    #expect(error.message == "cannot create the rv32 core: cpus: \(all) would leave the host no CPU; keep at least one of \(all)")
  }

  static func allowedCPUs(_ path: String) -> String? {
    guard let text = try? String(contentsOfFile: "\(path)/status", encoding: .utf8) else { return nil }
    for line in text.split(separator: "\n") where line.hasPrefix("Cpus_allowed_list:") {
      return line.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)
    }
    return nil
  }
}
