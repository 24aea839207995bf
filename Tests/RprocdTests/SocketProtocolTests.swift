import Foundation
import Glibc
import RPMsg
import RprocdClient
import RprocdProtocol
import RprocdService
import Synchronization
import Testing

extension DaemonTests {
  /// Clients on the socket: the protocol, bad input, endpoints, monitors.
  @Suite(.enabled(if: Repository.built, Repository.skipReason), .timeLimit(.minutes(1)))
  struct SocketProtocolTests {
    @Test func aClientSendingGarbageIsDisconnectedWithoutDisturbingOthers() async throws {
      try await withDaemon(mount: false) { (d: TestDaemon) async throws in
        let good = try await d.connect("good")
        let before = try await good.request(Request(.list), as: ProcessorList.self)
        #expect(before.processors.map(\.device) == ["remoteproc0", "remoteproc1"])

        var deep = Array("{\"id\":1,\"op\":\"hello\",\"x\":".utf8) + [UInt8](repeating: UInt8(ascii: "["), count: 100_000)
        deep += [UInt8](repeating: UInt8(ascii: "]"), count: 100_000) + [UInt8(ascii: "}")]
        let garbage: [(String, [UInt8], String)] = [
          ("an HTTP request", Array("GET / HTTP/1.1\r\nHost: rprocd\r\n\r\n".utf8), "EMSGSIZE"),
          ("an empty frame", [0, 0, 0, 0], "EPROTO"),
          ("a frame that is not JSON", Frame.encode(Array("hello rprocd".utf8)), "EPROTO"),
          ("a JSON array", Frame.encode(Array("[1,2,3]".utf8)), "EPROTO"),
          ("deeply nested JSON", Frame.encode(deep), "EPROTO"),
          ("a request before hello", try ProtocolJSON.frame(Request(id: 1, .list)), "EPROTO"),
          ("another protocol version", try ProtocolJSON.frame(Request(id: 1, .hello, version: 99)), "EPROTONOSUPPORT"),
          ("a request without op", Frame.encode(Array("{\"id\":1}".utf8)), "EPROTO"),
          ("random bytes", (0..<4096).map { UInt8(truncatingIfNeeded: $0 &* 131 &+ 7) }, "EMSGSIZE"),
        ]
        for (what, bytes, code) in garbage {
          let raw = try await RawClient(d.socket)
          try await raw.send(bytes)
          let frames = try await raw.framesUntilClosed()
          #expect(frames.count == 1, "\(what)")
          #expect(frames.first?.id == nil, "\(what)")
          #expect(frames.first?.error?.code == code, "\(what): \(String(describing: frames.first?.error))")
        }
        // A half-written frame, then nothing: the client goes away.
        let partial = try await RawClient(d.socket)
        try await partial.send([0, 0, 0, 40] + Array("{\"id\":".utf8))
        partial.close()

        #expect(await eventually { d.daemon.clientCount == 1 }, "\(d.daemon.clientCount) clients")
        let after = try await good.request(Request(.list), as: ProcessorList.self)
        #expect(after == before)
      }
    }

    @Test func badRequestsAreRefusedAndTheConnectionStays() async throws {
      try await withDaemon(mount: false) { (d: TestDaemon) async throws in
        let client = try await d.connect()
        func refusal(_ request: Request) async -> String {
          do {
            _ = try await client.request(request, as: Empty.self)
            return "accepted"
          } catch {
            return error.errnoName ?? "\(error.code)"
          }
        }
        #expect(await refusal(Request(.status, processor: "remoteproc9")) == "ENODEV")
        #expect(await refusal(Request(.read, processor: "remoteproc0", attribute: "colour")) == "ENOENT")
        #expect(await refusal(Request(.write, processor: "remoteproc0", attribute: "state", value: "begin")) == "EINVAL")
        #expect(await refusal(Request(.write, processor: "remoteproc0", attribute: "name", value: "x")) == "EACCES")
        #expect(await refusal(Request(.write, processor: "remoteproc0", attribute: "state")) == "EINVAL")
        #expect(await refusal(Request(.crash, processor: "remoteproc0", value: "7")) == "EINVAL")
        #expect(await refusal(Request(.trace, processor: "remoteproc0")) == "ENOENT")
        #expect(await refusal(Request(.coredump, processor: "remoteproc0")) == "ENOENT")
        #expect(await refusal(Request(.send, processor: "remoteproc1", target: "rpmsg-tty", payload: Data([1]))) == "ENOENT")
        #expect(await refusal(Request(.endpointSend, payload: Data([1]), endpoint: 42)) == "EBADF")
        #expect(await refusal(Request(.unmonitor, monitor: 7)) == "ENOENT")
        var unknown = Request(.list)
        unknown.op = "reboot-the-world"
        #expect(await refusal(unknown) == "EOPNOTSUPP")
        let state = try await client.request(Request(.read, processor: "mips32", attribute: "state"), as: AttributeValue.self)
        #expect(state.value == "offline\n")
        // Start, and a message too long for rpmsg.
        _ = try await client.request(Request(.start, processor: "1"), as: ProcessorSummary.self)
        #expect(await eventually { ((try? await client.request(Request(.channels, processor: "remoteproc1"), as: ChannelList.self))?.channels.count ?? 0) == 2 })
        #expect(await refusal(Request(.send, processor: "remoteproc1", target: "rpmsg-client-sample", payload: Data(count: 497))) == "EMSGSIZE")
        #expect(await refusal(Request(.start, processor: "remoteproc1")) == "EBUSY")
        #expect(await refusal(Request(.firmware, processor: "remoteproc1", name: "case-invert-rv32.elf")) == "EBUSY")
        #expect(await refusal(Request(.endpointOpen, processor: "remoteproc1", address: 53)) == "EBUSY")
        #expect(await refusal(Request(.endpointOpen, processor: "remoteproc1", name: String(repeating: "n", count: 32))) == "EINVAL")
        // A connection holds at most 64 endpoints; closing one makes room.
        var handles: [Int] = []
        for _ in 0..<64 {
          handles.append(try await client.request(Request(.endpointOpen, processor: "remoteproc1"), as: EndpointOpened.self).endpoint)
        }
        #expect(await refusal(Request(.endpointOpen, processor: "remoteproc1")) == "EMFILE")
        _ = try await client.request(Request(.endpointClose, endpoint: handles[0]), as: Empty.self)
        _ = try await client.request(Request(.endpointOpen, processor: "remoteproc1"), as: EndpointOpened.self)
      }
    }

    @Test func aFirmwarePathLeavingTheFirmwareDirectoryIsRefused() async throws {
      // A firmware directory of our own, with a symlink that leads out of it.
      let directory = FileManager.default.temporaryDirectory.appendingPathComponent("rprocd-fw-\(UUID().uuidString)").path
      try FileManager.default.createDirectory(atPath: directory + "/sub", withIntermediateDirectories: true)
      defer { try? FileManager.default.removeItem(atPath: directory) }
      for name in ["case-invert-mips32.elf", "rpmsg-echo-rv32.elf"] {
        try FileManager.default.copyItem(atPath: Repository.firmware + "/" + name, toPath: directory + "/" + name)
      }
      try FileManager.default.copyItem(atPath: Repository.firmware + "/case-invert-rv32.elf", toPath: directory + "/sub/inside.elf")
      try FileManager.default.createSymbolicLink(atPath: directory + "/escape.elf", withDestinationPath: "/etc/passwd")
      try FileManager.default.createSymbolicLink(atPath: directory + "/alias.elf", withDestinationPath: "sub/inside.elf")
      try await withDaemon(twoProcessors(firmware: directory)) { (d: TestDaemon) async throws in
        let client = try await d.connect()
        func firmware(_ name: String) async -> String {
          do {
            return try await client.request(Request(.firmware, processor: "remoteproc1", name: name), as: ProcessorSummary.self).firmware
          } catch {
            return error.errnoName ?? "\(error.code)"
          }
        }
        #expect(await firmware("../rpmsg-echo-rv32.elf") == "EINVAL")
        #expect(await firmware("sub/../../x.elf") == "EINVAL")
        #expect(await firmware("/etc/passwd") == "EINVAL")
        #expect(await firmware(Repository.firmware + "/rpmsg-echo-rv32.elf") == "EINVAL")  // another directory
        #expect(await firmware("escape.elf") == "EINVAL")  // a symlink leading out
        #expect(await firmware("missing.elf") == "ENOENT")
        #expect(await firmware("sub/inside.elf") == "sub/inside.elf")
        #expect(await firmware(directory + "/rpmsg-echo-rv32.elf") == "rpmsg-echo-rv32.elf")
        #expect(await firmware("alias.elf") == "alias.elf")  // a symlink that stays inside
        // The tree takes a name that escapes through a symlink (as Linux does), and boot refuses it.
        let rp = d.processor(1)
        #expect(try await shell("echo escape.elf > \"$1/firmware\"", rp).status == 0)
        let start = try await shell("/bin/echo start > \"$1/state\"", rp)
        #expect(start.error.contains("Invalid argument"))
        #expect(try await shell("cat \"$1/state\"", rp).output == "offline\n")
      }
    }

    @Test func twoClientsOnDifferentEndpointsCannotSeeEachOthersTraffic() async throws {
      try await withDaemon(twoProcessors(autoBoot: true), mount: false) { (d: TestDaemon) async throws in
        let alice = try await d.connect("alice")
        let bob = try await d.connect("bob")
        #expect(await eventually { ((try? await alice.request(Request(.channels), as: ChannelList.self))?.channels.count ?? 0) == 2 })
        let a = try await alice.request(Request(.endpointOpen, processor: "remoteproc1", target: "rpmsg-client-sample"), as: EndpointOpened.self)
        let b = try await bob.request(Request(.endpointOpen, processor: "remoteproc1", target: "rpmsg-client-sample"), as: EndpointOpened.self)
        #expect(a.address != b.address)
        #expect(a.destination == 1024 && b.destination == 1024)
        // Both send at once; the firmware echoes every message to its sender.
        async let aliceSent: Void = sendAll(alice, a.endpoint, prefix: "alice", count: 20)
        async let bobSent: Void = sendAll(bob, b.endpoint, prefix: "bob", count: 20)
        _ = try await (aliceSent, bobSent)
        let aliceGot = await received(alice, count: 20)
        let bobGot = await received(bob, count: 20)
        #expect(aliceGot == (0..<20).map { "alice \($0)" })
        #expect(bobGot == (0..<20).map { "bob \($0)" })
        // A monitor (root only) sees both.
        let monitor = try await d.connect("monitor")
        _ = try await monitor.request(Request(.monitor, processor: "remoteproc1"), as: MonitorStarted.self)
        _ = try await alice.request(Request(.endpointSend, payload: Data("alice again".utf8), endpoint: a.endpoint), as: Empty.self)
        _ = try await bob.request(Request(.endpointSend, payload: Data("bob again".utf8), endpoint: b.endpoint), as: Empty.self)
        var seen: [String] = []
        for await event in monitor.events {
          guard case .traffic(let t) = event else { continue }
          seen.append("\(t.direction) \(String(decoding: t.payload, as: UTF8.self))")
          if seen.count == 4 { break }
        }
        #expect(Set(seen) == ["out alice again", "in alice again", "out bob again", "in bob again"])
        #expect(await received(alice, count: 1) == ["alice again"])
        #expect(await received(bob, count: 1) == ["bob again"])
      }
    }

    @Test func aClientThatDisconnectsDuringSendsLeavesNothingBehind() async throws {
      try await withDaemon(twoProcessors(autoBoot: true), mount: false) { (d: TestDaemon) async throws in
        let watcher = try await d.connect("watcher")
        #expect(await eventually { ((try? await watcher.request(Request(.channels), as: ChannelList.self))?.channels.count ?? 0) == 2 })
        let bus = try #require(await busOfRemoteproc1(d))
        let endpointsBefore = bus.endpointCount
        for round in 0..<3 {
          let raw = try await RawClient(d.socket)
          _ = try await raw.hello()
          try await raw.send(Request(id: 2, .endpointOpen, processor: "remoteproc1", target: "rpmsg-client-sample"))
          // A burst of sends and a temporary-endpoint send, then gone without reading a reply,
          // in the middle of a frame on the last round.
          var burst: [UInt8] = []
          for i in 0..<64 {
            burst += try ProtocolJSON.frame(Request(id: 10 + i, .endpointSend, payload: Data(repeating: UInt8(i), count: 400), endpoint: 1))
            burst += try ProtocolJSON.frame(Request(id: 100 + i, .send, processor: "remoteproc1", target: "rpmsg-client-sample", payload: Data([1]), reply: true))
          }
          if round == 2 { burst += [0, 0, 1, 0, UInt8(ascii: "{")] }
          try await raw.send(burst)
          raw.close()
        }
        #expect(await eventually { d.daemon.clientCount == 1 }, "\(d.daemon.clientCount) clients")
        #expect(await eventually { bus.endpointCount == endpointsBefore }, "\(bus.endpointCount) endpoints, \(endpointsBefore) before")
        // The daemon and the remote still answer.
        let reply = try await watcher.request(
          Request(.send, processor: "remoteproc1", target: "rpmsg-client-sample", payload: Data("still here".utf8), reply: true),
          as: SendResult.self)
        #expect(reply.reply?.payload == Data("still here".utf8))
      }
    }

    @Test func anEndpointEndsWithItsProcessorAndTheClientIsTold() async throws {
      try await withDaemon(twoProcessors(autoBoot: true), mount: false) { (d: TestDaemon) async throws in
        let client = try await d.connect()
        #expect(await eventually { ((try? await client.request(Request(.channels), as: ChannelList.self))?.channels.count ?? 0) == 2 })
        let opened = try await client.request(
          Request(.endpointOpen, processor: "remoteproc1", name: "rpmsg-mine", announce: true), as: EndpointOpened.self)
        #expect(opened.destination == UInt32.max)
        _ = try await client.request(Request(.stop, processor: "remoteproc1"), as: ProcessorSummary.self)
        var closed: EndpointClosedEvent?
        for await event in client.events {
          if case .endpointClosed(let e) = event {
            closed = e
            break
          }
        }
        #expect(closed?.endpoint == opened.endpoint)
        do throws(RprocdError) {
          _ = try await client.request(Request(.endpointSend, payload: Data([1]), endpoint: opened.endpoint), as: Empty.self)
          Issue.record("a send on a closed endpoint was accepted")
        } catch {
          #expect(error.errnoName == "EBADF")
        }
      }
    }

    @Test func statusShowsTerminalsChannelsAndDumps() async throws {
      try await withDaemon(twoProcessors(autoBoot: true, coredump: "enabled"), mount: false) { (d: TestDaemon) async throws in
        let client = try await d.connect()
        _ = try await client.request(Request(.start, processor: "remoteproc0"), as: ProcessorSummary.self)
        #expect(await eventually { ((try? await client.request(Request(.channels), as: ChannelList.self))?.channels.count ?? 0) == 2 })
        _ = try await client.request(Request(.crash, processor: "remoteproc1", value: "watchdog"), as: ProcessorSummary.self)
        let status = try await client.request(Request(.status), as: StatusList.self).processors
        #expect(status.map(\.state) == ["running", "running"])
        #expect(status[0].serialPorts.map(\.vdev) == [0])
        #expect(status[0].serialPorts.first?.tty == d.daemon.serialTerminal(processor: "remoteproc0"))
        #expect(status[1].crashes == 1)
        #expect(status[1].coredumps.map(\.crash) == ["watchdog"])
        #expect(status[1].traces == ["trace0"])
        let dump = try await client.request(Request(.coredump, processor: "remoteproc1"), as: CoredumpData.self)
        #expect(dump.data.prefix(4) == Data([0x7F, 0x45, 0x4C, 0x46]))
        #expect(dump.data.count == dump.info.bytes)
        // The recovered firmware writes its greeting again; it may be mid-line when first read.
        #expect(await eventually {
          (try? await client.request(Request(.trace, processor: "remoteproc1"), as: TraceText.self))?.text
            .contains("rpmsg-echo on rv32: hello") == true
        })
      }
    }
  }
}

func sendAll(_ client: RprocdConnection, _ endpoint: Int, prefix: String, count: Int) async throws {
  for i in 0..<count {
    _ = try await client.request(
      Request(.endpointSend, payload: Data("\(prefix) \(i)".utf8), endpoint: endpoint), as: Empty.self)
  }
}

/// The next `count` messages that reach the client's endpoints.
func received(_ client: RprocdConnection, count: Int) async -> [String] {
  var texts: [String] = []
  guard count > 0 else { return texts }
  for await event in client.events {
    if case .message(let m) = event { texts.append(String(decoding: m.payload, as: UTF8.self)) }
    if texts.count == count { break }
  }
  return texts
}

/// remoteproc1's rpmsg bus, to count its endpoints.
func busOfRemoteproc1(_ d: TestDaemon) async -> RPMsgBus? {
  d.daemon.rpmsgBus(processor: "remoteproc1")
}
