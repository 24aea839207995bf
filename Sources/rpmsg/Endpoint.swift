import ArgumentParser
import Foundation
import RprocdClient
import RprocdCommandLine
import RprocdProtocol
import SharedMemory
import Synchronization

/// `rpmsg endpoint NAME`: an endpoint for as long as the command runs.
struct Endpoint: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Open an endpoint for as long as this runs (like /dev/rpmsg_ctrl + /dev/rpmsgN): each line of standard input is one message, each message received is one line of output.",
    discussion: """
      Example: rpmsg endpoint remoteproc0 --to rpmsg-client-sample
      The endpoint is destroyed when standard input ends (after --linger seconds for replies), \
      at Ctrl-C, or when the processor stops.
      """)

  @Argument(help: "The processor (remoteproc0, its index or its name).")
  var name: String

  @Option(help: "Where messages go: a channel name or a remote address.")
  var to: String?

  @Option(help: "The endpoint's own address (default: the lowest free from 1024).")
  var address: UInt32?

  @Option(name: .customLong("service"), help: "A service name for the endpoint.")
  var service: String?

  @Flag(help: "Announce the service to the remote (needs --service).")
  var announce = false

  @Option(help: "Exit after receiving this many messages.")
  var count: Int?

  @Option(help: "Seconds to keep receiving after standard input ends.")
  var linger = 1.0

  @OptionGroup var payload: PayloadOptions

  @OptionGroup var client: ClientOptions

  func validate() throws {
    if announce && service == nil { throw ValidationError("--announce needs --service NAME.") }
    guard linger >= 0 else { throw ValidationError("'--linger' must not be negative.") }
  }

  func run() async throws {
    let connection = try await client.connect("rpmsg endpoint")
    let opened = try await client.run("rpmsg endpoint") { () throws(RprocdError) in
      try await connection.request(
        Request(.endpointOpen, processor: name, name: service, target: to, address: address, announce: announce),
        as: EndpointOpened.self)
    }
    if client.json {
      Console.json(opened, line: true)
    } else if Console.standardErrorIsTerminal {
      let destination = opened.destination == UInt32.max ? "no destination" : "to \(opened.destination)"
      Console.error("endpoint \(opened.address) on \(opened.processor), \(destination); one message per line, Ctrl-D to end")
    }
    let sender = Task {
      for await line in StandardInputLines.stream() {
        let bytes: [UInt8]
        do { bytes = try payload.bytes(line) } catch {
          Console.error("rpmsg endpoint: \(error)")
          continue
        }
        do throws(RprocdError) {
          _ = try await connection.request(
            Request(.endpointSend, payload: Data(bytes), endpoint: opened.endpoint), as: Empty.self)
        } catch {
          Console.error("rpmsg endpoint: \(error.message)\(error.errnoName.map { " (\($0))" } ?? "")")
        }
      }
      try? await Task.sleep(for: .milliseconds(Int(linger * 1000)))
      connection.close()
    }
    defer { sender.cancel() }
    var received = 0
    var failure: Int32 = 0
    try await untilInterrupted(connection) { event in
      switch event {
      case .message(let m):
        if m.dropped > 0 { Console.error("rpmsg endpoint: \(m.dropped) messages dropped (reading too slowly)") }
        if client.json {
          Console.json(m, line: true)
        } else {
          Console.line(payload.hex ? Console.hex(Array(m.payload)) : Console.payload(Array(m.payload)))
        }
        received += 1
        return count.map { received < $0 } ?? true
      case .endpointClosed(let closed):
        Console.error("rpmsg endpoint: the endpoint closed: \(closed.reason)")
        failure = 1
        return false
      case .traffic:
        return true
      }
    }
    if failure != 0 { throw ExitCode(failure) }
  }
}

/// Standard input as lines (without their newline), read on a thread of its own.
enum StandardInputLines {
  static func stream() -> AsyncStream<String> {
    let (stream, continuation) = AsyncStream.makeStream(of: String.self)
    let thread = Thread {
      var pending: [UInt8] = []
      while let bytes = try? FileDescriptorIO.read(0, upTo: 4096), !bytes.isEmpty {
        pending += bytes
        while let newline = pending.firstIndex(of: 0x0A) {
          continuation.yield(String(decoding: pending[..<newline], as: UTF8.self))
          pending.removeFirst(newline + 1)
        }
      }
      if !pending.isEmpty { continuation.yield(String(decoding: pending, as: UTF8.self)) }
      continuation.finish()
    }
    thread.name = "rpmsg-stdin"
    thread.start()
    return stream
  }
}
