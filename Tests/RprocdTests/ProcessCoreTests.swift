import Foundation
import Glibc
import RemoteprocProcess
import RprocdClient
import RprocdProtocol
import Testing

/// A native-process core served by rprocd: booted from the configuration, echoing over the
/// socket, left running when the daemon exits with `on-exit = "detach"`, and attached again
/// (not restarted) by the next daemon.
extension DaemonTests {
  @Suite(.enabled(if: Repository.built, Repository.skipReason), .timeLimit(.minutes(1)))
  struct ProcessCore {
    static func configuration(stateDirectory: String, onExit: String = "detach") -> String {
      """
      [processor.remoteproc0]
      platform = "process"
      firmware-directory = "\(Repository.firmware)"
      firmware = "rpmsg-echo-native.elf"
      auto-boot = true
      on-exit = "\(onExit)"
      doorbell = "sleep"
      memory-size = 0x40000
      state-directory = "\(stateDirectory)"
      """
    }

    /// The firmware's pid, from the daemon's platform.
    static func firmwarePID(_ d: TestDaemon) -> Int32? {
      (d.daemon.processors.first?.platform as? ProcessPlatform)?.processID
    }

    /// True while `pid` exists and has not ended (a zombie has ended).
    static func isRunning(_ pid: Int32) -> Bool {
      guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
        let close = stat.lastIndex(of: ")")
      else { return false }
      return stat[stat.index(close, offsetBy: 2)] != "Z"
    }

    static func status(_ client: RprocdConnection) async -> ProcessorStatus? {
      try? await client.request(Request(.status, processor: "remoteproc0"), as: StatusList.self).processors.first
    }

    static func echo(_ d: TestDaemon, _ text: String) async throws -> Data? {
      let client = try await d.connect()
      #expect(await eventually { ((try? await client.request(Request(.channels), as: ChannelList.self))?.channels.count ?? 0) == 2 })
      let reply = try await client.request(
        Request(.send, processor: "remoteproc0", target: "rpmsg-client-sample", payload: Data(text.utf8), reply: true),
        as: SendResult.self)
      return reply.reply?.payload
    }

    @Test func aDetachedRemoteIsAttachedByTheNextDaemonAndKeepsItsProcess() async throws {
      let state = FileManager.default.temporaryDirectory.appendingPathComponent("rprocd-state-\(UUID().uuidString)").path
      var started: Int32?
      defer {
        // Whatever happens, nothing outlives the test.
        if let started { kill(started, SIGKILL) }
        try? FileManager.default.removeItem(atPath: state)
      }
      try await withDaemon(Self.configuration(stateDirectory: state), mount: false) { (d: TestDaemon) async throws in
        #expect(try await Self.echo(d, "before the restart") == Data("before the restart".utf8))
        started = Self.firmwarePID(d)
        let summary = try #require(await Self.status(d.connect()))
        #expect(summary.state == "running")
        #expect(summary.platform == "process")
        // A client keeps sending while the daemon goes: every message comes back until the
        // one the shutdown catches, which fails with a reason; none is lost silently.
        let client = try await d.connect("in-flight")
        let sender = Task { () -> (echoed: Int, failure: String?) in
          for n in 0..<100_000 {
            let text = "message \(n)"
            do {
              let reply = try await client.request(
                Request(.send, processor: "remoteproc0", target: "rpmsg-client-sample", payload: Data(text.utf8), reply: true),
                as: SendResult.self)
              guard reply.reply?.payload == Data(text.utf8) else { return (n, "message \(n) came back as \(String(describing: reply.reply))") }
            } catch {
              return (n, "\(error)")
            }
          }
          return (100_000, nil)
        }
        try await Task.sleep(for: .milliseconds(200))
        await d.daemon.stop()
        let (echoed, failure) = await sender.value
        #expect(echoed > 0, "nothing was echoed before the daemon stopped")
        let reason = try #require(failure, "100,000 messages went through a daemon that was stopping")
        #expect(!reason.isEmpty && !reason.contains("came back as"), "\(reason)")
      }
      let pid = try #require(started, "no firmware process ran")
      #expect(Self.isRunning(pid), "the detached firmware (pid \(pid)) did not outlive its daemon")
      #expect(FileManager.default.fileExists(atPath: state + "/remoteproc0.json"))

      try await withDaemon(Self.configuration(stateDirectory: state, onExit: "stop"), mount: false) { (d: TestDaemon) async throws in
        let client = try await d.connect()
        #expect(await eventually { await Self.status(client)?.state == "attached" },
          "\(d.log.text)")
        #expect(Self.firmwarePID(d) == pid, "the daemon started a new firmware instead of attaching")
        #expect(try await Self.echo(d, "after the restart") == Data("after the restart".utf8))
        let after = try await d.connect("after")
        for n in 0..<200 {
          let text = "again \(n)"
          let reply = try await after.request(
            Request(.send, processor: "remoteproc0", target: "rpmsg-client-sample", payload: Data(text.utf8), reply: true),
            as: SendResult.self)
          #expect(reply.reply?.payload == Data(text.utf8))
        }
      }
      // on-exit = "stop": this time the firmware ends with the daemon. (Both daemons ran in
      // this test process, so the ended firmware stays this process's zombie; after a real
      // restart init reaps it.)
      #expect(await eventually { !Self.isRunning(pid) }, "the firmware (pid \(pid)) still runs after a stopping daemon exited")
      #expect(!FileManager.default.fileExists(atPath: state + "/remoteproc0.json"))
    }
  }
}
