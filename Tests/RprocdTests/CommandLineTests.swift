import Foundation
import Glibc
import PacketCapture
import RprocdProtocol
import Testing

extension DaemonTests {
  /// The `rproc` and `rpmsg` commands against a daemon, and the `rprocd` executable itself.
  @Suite(.enabled(if: Repository.built, Repository.skipReason), .timeLimit(.minutes(1)))
  struct CommandLineTests {
    static let rproc = Repository.executable("rproc")
    static let rpmsg = Repository.executable("rpmsg")
    static let rprocd = Repository.executable("rprocd")

    @Test func rprocListStatusStartStopFirmwareTraceAndCoredump() async throws {
      try await withDaemon(twoProcessors(coredump: "enabled"), mount: false) { (d: TestDaemon) async throws in
        let socket = ["--socket", d.socket]
        let list = try await run(Self.rproc, ["list"] + socket)
        #expect(list.status == 0, "\(list.error)")
        #expect(list.output == """
          DEVICE       NAME    STATE    FIRMWARE                PLATFORM
          remoteproc0  mips32  offline  case-invert-mips32.elf  emulated mips32
          remoteproc1  rv32    offline  rpmsg-echo-rv32.elf     emulated rv32

          """)
        let json = try await run(Self.rproc, ["list", "--json"] + socket)
        let decoded = try JSONDecoder().decode(ProcessorList.self, from: Data(json.output.utf8))
        #expect(decoded.processors.map(\.state) == ["offline", "offline"])

        let start = try await run(Self.rproc, ["start", "remoteproc1"] + socket)
        #expect(start.output == "remoteproc1: running (rpmsg-echo-rv32.elf)\n", "\(start.error)")
        let again = try await run(Self.rproc, ["start", "rv32"] + socket)
        #expect(again.status == 1)
        #expect(again.error == "rproc start: remoteproc1 is already running; write stop first (EBUSY)\n")
        let busy = try await run(Self.rproc, ["firmware", "remoteproc1", "case-invert-rv32.elf", "--json"] + socket)
        #expect(busy.status == 1)
        #expect(busy.output.contains("\"code\" : \"EBUSY\""))

        let trace = try await run(Self.rproc, ["trace", "remoteproc1"] + socket)
        #expect(trace.output.hasPrefix("rpmsg-echo on rv32: hello\n"))
        #expect(await eventually { (try? await run(Self.rproc, ["status", "1"] + socket))?.output.contains("rpmsg-tty") == true })
        let status = try await run(Self.rproc, ["status", "remoteproc1"] + socket)
        #expect(status.output.contains("remoteproc1 (rv32, emulated rv32): running"))
        #expect(status.output.contains("rpmsg         rpmsg-client-sample  0x400 → 0x400"))

        let noDump = try await run(Self.rproc, ["coredump", "remoteproc1"] + socket)
        #expect(noDump.status == 1)
        #expect(noDump.error.contains("has no core dump"))
        _ = try await d.connect().request(Request(.crash, processor: "remoteproc1", value: "0"), as: ProcessorSummary.self)
        let path = d.folder + "/core.elf"
        let dump = try await run(Self.rproc, ["coredump", "remoteproc1", "-o", path] + socket)
        #expect(dump.output.hasPrefix("\(path): core dump 1 (mmufault, "), "\(dump.error)")
        let inspect = try await run(Self.rproc, ["inspect", path])
        #expect(inspect.output.contains("CORE (core dump)"))

        let stop = try await run(Self.rproc, ["stop", "remoteproc1"] + socket)
        #expect(stop.output == "remoteproc1: offline (rpmsg-echo-rv32.elf)\n")
        let firmware = try await run(Self.rproc, ["firmware", "remoteproc1", "case-invert-rv32.elf"] + socket)
        #expect(firmware.output == "remoteproc1: firmware case-invert-rv32.elf\n", "\(firmware.error)")
        let outside = try await run(Self.rproc, ["firmware", "remoteproc1", "/etc/passwd"] + socket)
        #expect(outside.status == 1)
        #expect(outside.error.contains("is outside remoteproc1's firmware directory"))
      }
    }

    @Test func rpmsgListSendEndpointAndCapture() async throws {
      try await withDaemon(twoProcessors(autoBoot: true), mount: false) { (d: TestDaemon) async throws in
        let socket = ["--socket", d.socket]
        #expect(await eventually { (try? await run(Self.rpmsg, ["list"] + socket))?.output.contains("rpmsg-tty") == true })
        let list = try await run(Self.rpmsg, ["list"] + socket)
        #expect(list.output.hasPrefix("PROCESSOR    CHANNEL              SRC    DST    TTY"))
        #expect(list.output.contains("remoteproc1  rpmsg-client-sample  0x400  0x400  -           virtio0.rpmsg-client-sample.-1.1024"))

        // A capture runs while messages pass.
        let capturePath = d.folder + "/rpmsg.pcapng"
        async let capture = run(Self.rpmsg, ["capture", "remoteproc1", capturePath, "--count", "4"] + socket)
        #expect(await eventually { d.daemon.monitorCount(processor: "remoteproc1") == 1 })
        let reply = try await run(Self.rpmsg, ["send", "remoteproc1", "rpmsg-client-sample", "hello world!", "--reply"] + socket)
        #expect(reply.output == "hello world!\n", "\(reply.error)")
        let endpoint = try await run(
          Self.rpmsg, ["endpoint", "rv32", "--to", "1024", "--count", "1", "--json"] + socket, input: "one line\n")
        let lines = endpoint.output.split(separator: "\n")
        #expect(lines.count == 2, "\(endpoint.output)\(endpoint.error)")
        let message = try ProtocolJSON.decode(MessageEvent.self, from: Array(lines.last.map(String.init)?.utf8 ?? "".utf8))
        #expect(message.payload == Data("one line".utf8))
        #expect(message.source == 1024)

        let captured = try await capture
        #expect(captured.status == 0, "\(captured.error)")
        let file = try CaptureFile(contentsOf: capturePath)
        #expect(file.interfaces.map(\.name) == ["remoteproc1"])
        let packets = try file.packets.map { packet in
          let header = try RPMsgPseudoHeader(parsing: packet.data)
          return "\(header.direction) \(header.source)→\(header.destination) \(String(decoding: packet.data.dropFirst(RPMsgPseudoHeader.byteCount), as: UTF8.self))"
        }
        #expect(packets.count == 4)
        #expect(packets[0].hasPrefix("outbound ") && packets[0].hasSuffix("→1024 hello world!"))
        #expect(packets[1].hasPrefix("inbound 1024→") && packets[1].hasSuffix(" hello world!"))
        #expect(packets[3].hasSuffix(" one line"))
        let times = file.packets.map(\.timestamp)
        #expect(times == times.sorted())

        let tooLong = try await run(Self.rpmsg, ["send", "remoteproc1", "1024", String(repeating: "x", count: 497)] + socket)
        #expect(tooLong.status == 1)
        #expect(tooLong.error.contains("(EMSGSIZE)"))
        let hex = try await run(Self.rpmsg, ["send", "1", "rpmsg-client-sample", "00 ff 10", "--hex", "--reply"] + socket)
        #expect(hex.output == "00 ff 10\n")
      }
    }

    @Test func rpmsgHelpIsStable() async throws {
      let result = try await run(Self.rpmsg, ["--help"])
      #expect(result.status == 0)
      #expect(result.output == """
          OVERVIEW: Talk to remote processors over rpmsg through rprocd: channels,
          messages, endpoints, captures.

          USAGE: rpmsg <subcommand>

          OPTIONS:
            -h, --help              Show help information.

          SUBCOMMANDS:
            list                    List the rpmsg channels the remote processors
                                    announced.
            send                    Send one message to a channel or address, from a
                                    temporary endpoint; optionally wait for the reply.
            listen                  Print every message to and from a processor as it
                                    passes (like a live capture), until interrupted.
            endpoint                Open an endpoint for as long as this runs (like
                                    /dev/rpmsg_ctrl + /dev/rpmsgN): each line of standard
                                    input is one message, each message received is one
                                    line of output.
            capture                 Write every message to and from a processor to a
                                    pcapng file that Wireshark opens
                                    (docs/pcapng-rpmsg.md).

            See 'rpmsg help <subcommand>' for detailed help.

          """)
    }

    static let canSwitchUser = geteuid() == 0 && FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv")

    @Test(.enabled(if: canSwitchUser, "needs root and setpriv (util-linux) to run a client as another user"))
    func accessFollowsTheSocketsPermissionsAndThePeersCredentials() async throws {
      try await withDaemon(mount: false) { (d: TestDaemon) async throws in
        func asNobody(_ executable: String, _ arguments: [String]) async throws -> CommandResult {
          try await run("/usr/bin/setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", executable] + arguments)
        }
        // The socket is 0660 root:root: another user cannot connect at all.
        let shut = try await asNobody(Self.rproc, ["list", "--socket", d.socket])
        #expect(shut.status == 77, "\(shut.error)")
        #expect(shut.error.contains("no permission to connect to \(d.socket)"))
        // Let everyone in (as --socket-group lets a group in): they may look, not change.
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: d.folder)
        try FileManager.default.setAttributes([.posixPermissions: 0o666], ofItemAtPath: d.socket)
        let list = try await asNobody(Self.rproc, ["list", "--socket", d.socket])
        #expect(list.status == 0, "\(list.error)")
        #expect(list.output.contains("remoteproc0"))
        let start = try await asNobody(Self.rproc, ["start", "remoteproc0", "--socket", d.socket])
        #expect(start.status == 1)
        #expect(start.error == "rproc start: start needs root or rprocd's own user (you are uid 65534) (EACCES)\n")
        let listen = try await asNobody(Self.rpmsg, ["listen", "remoteproc1", "--socket", d.socket])
        #expect(listen.error.contains("(EACCES)"))
        #expect(await d.daemon.processors[0].state == .offline)
      }
    }

    @Test func withoutADaemonTheCommandsSayHowToStartIt() async throws {
      let socket = FileManager.default.temporaryDirectory.appendingPathComponent("no-rprocd-\(UUID().uuidString).sock").path
      let result = try await run(Self.rproc, ["list", "--socket", socket])
      #expect(result.status == 69)
      #expect(result.error == "rproc list: rprocd is not running (nothing listens at \(socket)): start it with rprocd --config FILE (see docs/rprocd.md), or give --socket or RPROCD_SOCKET its socket\n")
      let json = try await run(Self.rpmsg, ["list", "--json"], environment: ["RPROCD_SOCKET": socket])
      #expect(json.status == 69)
      #expect(json.output.contains("\"code\" : \"not running\""))
    }

    @Test func rprocdServesTheExampleAndExitsCleanlyOnSIGTERM() async throws {
      let folder = FileManager.default.temporaryDirectory.appendingPathComponent("rprocd-exe-\(UUID().uuidString)").path
      try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
      defer { try? FileManager.default.removeItem(atPath: folder) }
      let mount = folder + "/sys", socket = folder + "/rprocd.sock"
      let daemon = Process()
      daemon.executableURL = URL(fileURLWithPath: Self.rprocd)
      daemon.arguments = ["--config", Repository.root.appendingPathComponent("examples/rprocd.toml").path, "--mount", mount, "--socket", socket]
      let errors = Pipe()
      daemon.standardError = errors
      daemon.standardOutput = FileHandle.nullDevice
      let exited = Gate()
      daemon.terminationHandler = { _ in exited.open() }
      try daemon.run()
      let log = PipeReader(errors)
      // Whatever happens below, the daemon is told to stop (once), and is waited for.
      func stop() async {
        kill(daemon.processIdentifier, SIGTERM)
        await exited.wait()
      }
      do {
        #expect(await eventually { FileManager.default.fileExists(atPath: socket) && isMounted(mount) })
        let list = try await run(Self.rproc, ["list", "--socket", socket])
        #expect(list.output.contains("remoteproc0  mips32  offline  case-invert-mips32.elf  emulated mips32"), "\(list.error)")
        let session = try await shell(
          "echo start > \"$1/remoteproc0/state\" && cat \"$1/remoteproc0/state\" && exec 3<>\"$(cat \"$1/remoteproc0/serial0\")\" && printf 'Hello\\n' >&3 && head -c 6 <&3",
          mount)
        #expect(session.output == "running\nhELLO\n", "\(session.error)")
      } catch {
        await stop()
        throw error
      }
      await stop()
      #expect(daemon.terminationReason == .exit)
      #expect(daemon.terminationStatus == 0)
      let text = await log.text()
      #expect(text.contains("rprocd: signal 15, shutting down\nrprocd: remoteproc0: stopping\nrprocd: remoteproc0: running → offline\nrprocd: stopped\n"), "\(text)")
      #expect(!isMounted(mount))
      #expect(!FileManager.default.fileExists(atPath: socket))
      #expect(!FileManager.default.fileExists(atPath: mount))  // it made the folder, and removed it
    }

    @Test func rprocdRefusesBadConfigurationsSayingWhere() async throws {
      let folder = FileManager.default.temporaryDirectory.appendingPathComponent("rprocd-conf-\(UUID().uuidString)").path
      try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
      defer { try? FileManager.default.removeItem(atPath: folder) }
      let cases: [(String, String)] = [
        ("[processor.remoteproc0]\nplatform = \"emulated\"\nmachine = \"mips32\"\nfirmware = \"x.elf\"\ncpuz = 2\n",
         "typo.toml:5:1: processor.remoteproc0.cpuz: unknown key; did you mean cpus?"),
        ("[processor.remoteproc0]\nplatform = \"emulated\"\nmachine = \"mips33\"\nfirmware = \"x.elf\"\n",
         "typo.toml:3:1: processor.remoteproc0.machine:"),
        ("[processor.remoteproc0]\nplatform = \"process\"\nfirmware = \"x.elf\"\ndoorbell = \"spin\"\n",
         "typo.toml:4:1: processor.remoteproc0.doorbell: \"spin\" is not one of \"sleep\", \"adaptive\""),
        ("[processor.remoteproc1]\nplatform = \"emulated\"\nmachine = \"rv32\"\nfirmware = \"x.elf\"\n",
         "processor.remoteproc1: processors are numbered from remoteproc0 without gaps"),
      ]
      for (text, expected) in cases {
        let path = folder + "/typo.toml"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        let result = try await run(Self.rprocd, ["--config", path, "--socket", folder + "/s.sock"])
        #expect(result.status == 78, "\(result.error)")
        #expect(result.error.contains(expected), "\(result.error)")
        #expect(!FileManager.default.fileExists(atPath: folder + "/s.sock"))
      }
    }
  }
}
