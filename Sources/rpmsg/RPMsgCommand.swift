import ArgumentParser
import Foundation
import PacketCapture
import RprocdClient
import RprocdCommandLine
import RprocdProtocol

@main
struct RPMsgCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "rpmsg",
    abstract: "Talk to remote processors over rpmsg through rprocd: channels, messages, endpoints, captures.",
    subcommands: [List.self, Send.self, Listen.self, Endpoint.self, Capture.self])
}

/// `rpmsg list [NAME]`.
struct List: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "List the rpmsg channels the remote processors announced.")

  @Argument(help: "A processor (remoteproc0, its index or its name); all when absent.")
  var name: String?

  @OptionGroup var client: ClientOptions

  func run() async throws {
    let connection = try await client.connect("rpmsg list")
    let list = try await client.run("rpmsg list") { () throws(RprocdError) in
      try await connection.request(Request(.channels, processor: name), as: ChannelList.self)
    }
    if client.json { return Console.json(list) }
    guard !list.channels.isEmpty else {
      return Console.line("no channels (a processor announces its channels once it runs: rproc start NAME)")
    }
    var rows = [["PROCESSOR", "CHANNEL", "SRC", "DST", "TTY", "DEVICE"].map { Console.styled($0, .bold) }]
    for c in list.channels {
      rows.append([
        c.processor, c.name, "0x" + String(c.source, radix: 16), "0x" + String(c.destination, radix: 16),
        c.tty ?? "-", c.device,
      ])
    }
    Console.line(Console.table(rows))
  }
}

/// What to send: text, or bytes given in hex.
struct PayloadOptions: ParsableArguments {
  @Flag(help: "MESSAGE is hex bytes (\"48 65 6c 6c 6f\") rather than text.")
  var hex = false

  func bytes(_ message: String) throws -> [UInt8] {
    guard hex else { return Array(message.utf8) }
    guard let bytes = Console.parseHex(message) else {
      throw ValidationError("'\(message)' is not hex bytes such as \"48 65 6c\".")
    }
    return bytes
  }
}

/// `rpmsg send NAME TARGET MESSAGE`.
struct Send: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Send one message to a channel or address, from a temporary endpoint; optionally wait for the reply.",
    discussion: "Example: rpmsg send remoteproc0 rpmsg-client-sample 'hello world!' --reply")

  @Argument(help: "The processor (remoteproc0, its index or its name).")
  var name: String

  @Argument(help: "A channel name (rpmsg list) or a remote address (1024, 0x400).")
  var target: String

  @Argument(help: "The message (at most 496 bytes).")
  var message: String

  @OptionGroup var payload: PayloadOptions

  @Flag(help: "Wait for one message back and print it.")
  var reply = false

  @Option(help: "Seconds to wait for a free buffer, and for the reply.")
  var timeout: Double?

  @OptionGroup var client: ClientOptions

  func run() async throws {
    let bytes = try payload.bytes(message)
    let connection = try await client.connect("rpmsg send")
    let request = Request(.send, processor: name, target: target, payload: Data(bytes), reply: reply, timeout: timeout)
    let result = try await client.run("rpmsg send") { () throws(RprocdError) in
      try await connection.request(request, as: SendResult.self)
    }
    if client.json { return Console.json(result) }
    if let answer = result.reply {
      Console.line(payload.hex ? Console.hex(Array(answer.payload)) : Console.payload(Array(answer.payload)))
    } else if Console.standardOutputIsTerminal {
      Console.line("sent \(bytes.count) bytes from \(result.source) to \(result.destination)")
    }
  }
}

/// `rpmsg listen NAME`: every message to and from a processor.
struct Listen: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Print every message to and from a processor as it passes (like a live capture), until interrupted.")

  @Argument(help: "The processor (remoteproc0, its index or its name).")
  var name: String

  @Option(help: "Stop after this many messages.")
  var count: Int?

  @OptionGroup var client: ClientOptions

  func run() async throws {
    let connection = try await client.connect("rpmsg listen")
    let started = try await client.run("rpmsg listen") { () throws(RprocdError) in
      try await connection.request(Request(.monitor, processor: name), as: MonitorStarted.self)
    }
    if !client.json, Console.standardErrorIsTerminal {
      Console.error("listening to \(started.processor) (\(started.description)); Ctrl-C to stop")
    }
    var seen = 0
    try await untilInterrupted(connection) { event in
      guard case .traffic(let t) = event else { return true }
      if t.dropped > 0 { Console.error("rpmsg listen: \(t.dropped) messages dropped (reading too slowly)") }
      if client.json {
        Console.json(t, line: true)
      } else {
        let direction = t.direction == "in" ? Console.styled("in ", .green) : Console.styled("out", .cyan)
        Console.line("\(Self.time(t.timeNs)) \(direction) \(t.source) → \(t.destination)  \(t.payload.count) bytes  \(Console.payload(Array(t.payload)).debugDescription)")
      }
      seen += 1
      return count.map { seen < $0 } ?? true
    }
  }

  static func time(_ nanoseconds: UInt64) -> String {
    let seconds = nanoseconds / 1_000_000_000
    let micro = (nanoseconds % 1_000_000_000) / 1000
    let day = seconds % 86400
    func two(_ n: UInt64) -> String { n < 10 ? "0\(n)" : "\(n)" }
    let fraction = String(micro)
    return "\(two(day / 3600)):\(two(day / 60 % 60)):\(two(day % 60)).\(String(repeating: "0", count: 6 - fraction.count))\(fraction)"
  }
}

/// Handles events until `handle` returns false, the daemon goes away, or SIGINT/SIGTERM.
func untilInterrupted(_ connection: RprocdConnection, _ handle: @escaping (RprocdEvent) -> Bool) async throws {
  let interrupts = Interrupts()
  let stop = Task { await interrupts.next(); connection.close() }
  defer { stop.cancel() }
  for await event in connection.events {
    if !handle(event) { break }
  }
}
