import ArgumentParser
import Foundation
import PacketCapture
import RprocdClient
import RprocdCommandLine
import RprocdProtocol

/// `rpmsg capture NAME FILE`: every message of a processor into a pcapng file.
struct Capture: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Write every message to and from a processor to a pcapng file that Wireshark opens (docs/pcapng-rpmsg.md).",
    discussion: """
      Runs until Ctrl-C (or --count, or --duration). Dissect with the repository's Lua plugin:
      tshark -X lua_script:docs/rpmsg.lua -r FILE
      """)

  @Argument(help: "The processor (remoteproc0, its index or its name).")
  var name: String

  @Argument(help: "The pcapng file to write (replaced if it exists).")
  var file: String

  @Option(help: "Stop after this many messages.")
  var count: Int?

  @Option(help: "Stop after this many seconds.")
  var duration: Double?

  @OptionGroup var client: ClientOptions

  func validate() throws {
    if let count, count <= 0 { throw ValidationError("'--count' must be at least 1.") }
    if let duration, !(duration > 0) { throw ValidationError("'--duration' must be positive.") }
  }

  func run() async throws {
    let connection = try await client.connect("rpmsg capture")
    let started = try await client.run("rpmsg capture") { () throws(RprocdError) in
      try await connection.request(Request(.monitor, processor: name), as: MonitorStarted.self)
    }
    let writer: PacketCaptureWriter
    let interface: Int
    do {
      writer = try PacketCaptureWriter(path: file, application: "rpmsg capture (swift-remoteproc)")
      interface = try writer.addInterface(CaptureInterface(name: started.processor, description: started.description))
    } catch {
      Console.error("rpmsg capture: \(error)")
      throw ExitCode(1)
    }
    if !client.json, Console.standardErrorIsTerminal {
      Console.error("capturing \(started.processor) to \(file); Ctrl-C to stop")
    }
    if let duration {
      Task {
        try? await Task.sleep(for: .milliseconds(Int(duration * 1000)))
        connection.close()
      }
    }
    var written = 0
    var dropped = 0
    var failure: String?
    try await untilInterrupted(connection) { event in
      guard case .traffic(let t) = event else { return true }
      dropped += t.dropped
      do {
        try writer.writeMessage(
          interface: interface, direction: t.direction == "in" ? .inbound : .outbound, source: t.source,
          destination: t.destination, flags: t.flags, payload: Array(t.payload), timestamp: t.timeNs)
      } catch {
        failure = "\(error)"
        return false
      }
      written += 1
      return count.map { written < $0 } ?? true
    }
    do { try writer.close() } catch { failure = failure ?? "\(error)" }
    struct Summary: Encodable { var file: String; var messages: Int; var dropped: Int }
    if client.json {
      Console.json(Summary(file: file, messages: written, dropped: dropped))
    } else {
      Console.error("\(file): \(written) message\(written == 1 ? "" : "s")\(dropped > 0 ? ", \(dropped) dropped (reading too slowly)" : "")")
    }
    if let failure {
      Console.error("rpmsg capture: \(failure)")
      throw ExitCode(1)
    }
  }
}
