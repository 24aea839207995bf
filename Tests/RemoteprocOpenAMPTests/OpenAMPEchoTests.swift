import Foundation
import RPMsg
import RPMsgDrivers
import Remoteproc
import RemoteprocOpenAMP
import Testing

/// Our host attached to our Swift remote over OpenAMP's Linux-machine wire: the shared-memory
/// file holds the table, vrings and buffers; kicks are bytes on the UNIX socket.
@Suite struct OpenAMPEchoTests {
  @Test func theHostAttachesAndEchoesComeBack() async throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let remote = try EchoRemote(scratch.configuration)
    defer { remote.stop() }
    let host = try await OpenAMPHost(scratch.configuration)
    #expect(await host.processor.state == .detached)
    try await host.processor.boot()
    #expect(await host.processor.state == .attached)
    // What OpenAMP's rpmsg-echo-ping sends: payloads of every size from 17 bytes to the MTU,
    // filled with 0xA5 after a sequence number.
    let endpoint = try await host.endpoint()
    #expect(endpoint.channel.destination == .firstDynamic)
    var replies = endpoint.messages.makeAsyncIterator()
    for size in stride(from: 17, through: RPMsgWire.mtu, by: 7) + [RPMsgWire.mtu] {
      let message = (0..<8).map { UInt8(truncatingIfNeeded: size >> (8 * $0)) } + Array(repeating: 0xA5, count: size - 8)
      try await endpoint.send(message)
      let reply = try #require(try await replies.next())
      #expect(reply.payload == message)
    }
    try await host.processor.shutdown()
    #expect(await host.processor.state == .offline)
    await host.close()
  }

  @Test func theClientSampleRunsItsHundredRounds() async throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let remote = try EchoRemote(scratch.configuration, services: ["rpmsg-client-sample"])
    defer { remote.stop() }
    let host = try await OpenAMPHost(scratch.configuration)
    try await host.processor.boot()
    var finished = host.sample.finished.makeAsyncIterator()
    let report = try #require(await finished.next())
    #expect(report.received == 100 && report.mismatches == 0 && report.finished)
    await host.close()
  }

  @Test func aDetachedRemoteServesTheNextHost() async throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let remote = try EchoRemote(scratch.configuration)
    defer { remote.stop() }
    let first = try await OpenAMPHost(scratch.configuration)
    try await first.processor.boot()
    #expect(try await first.echo(Array("one".utf8)) == Array("one".utf8))
    try await first.processor.detach()
    #expect(await first.processor.state == .detached)
    await first.close()
    try await eventually("the remote sees the first host go") {
      remote.events.withLock { $0.contains(.disconnected) }
    }
    let second = try await OpenAMPHost(scratch.configuration)
    try await second.processor.boot()
    #expect(try await second.echo(Array("two".utf8)) == Array("two".utf8))
    #expect(remote.remote.hostsSeen == 2)
    await second.close()
  }

  @Test func aRemoteThatGoesAwayIsACrashNamingTheSocket() async throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let remote = try EchoRemote(scratch.configuration)
    let host = try await OpenAMPHost(scratch.configuration)
    let events = host.registry.events.subscribe()
    try await host.processor.boot()
    #expect(try await host.echo(Array("ping".utf8)) == Array("ping".utf8))
    remote.stop()  // the socket closes, as when OpenAMP's remote exits
    try await eventually("the crash") { await host.processor.state == .crashed }
    var details: String?
    for await event in events {
      if case .crashed(_, let type, let text) = event {
        #expect(type == .fatalError)
        details = text
        break
      }
    }
    #expect(details == "the OpenAMP remote closed its kick socket \(scratch.configuration.socketPath) (it exited, crashed or let go of this host)")
    #expect(await host.processor.crashCount == 1)
    // With recovery disabled the processor stays crashed until stopped; then the channel goes.
    #expect(await host.processor.state == .crashed)
    try await host.processor.shutdown()
    #expect(host.raw.openEndpoints.isEmpty)
    await host.close()
  }

  @Test func recoveryOfAnAttachedRemoteFailsAndLeavesItOffline() async throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let remote = try EchoRemote(scratch.configuration)
    let host = try await OpenAMPHost(scratch.configuration, recoveryDisabled: false)
    let events = host.registry.events.subscribe()
    try await host.processor.boot()
    _ = try await host.endpoint()
    remote.stop()
    var reason: String?
    for await event in events {
      if case .recoveryFailed(_, let text) = event {
        reason = text
        break
      }
    }
    #expect(reason?.contains("attached, not booted") == true)
    #expect(await host.processor.state == .offline)
    await host.close()
  }
}
