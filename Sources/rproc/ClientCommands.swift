import ArgumentParser
import Foundation
import RprocdClient
import RprocdCommandLine
import RprocdProtocol

/// `rproc list`: every processor rprocd owns.
struct List: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "List the processors rprocd owns, with their state and firmware.")

  @OptionGroup var client: ClientOptions

  func run() async throws {
    let connection = try await client.connect("rproc list")
    let list = try await client.run("rproc list") { () throws(RprocdError) in
      try await connection.request(Request(.list), as: ProcessorList.self)
    }
    if client.json { return Console.json(list) }
    var rows = [["DEVICE", "NAME", "STATE", "FIRMWARE", "PLATFORM"].map { Console.styled($0, .bold) }]
    for p in list.processors {
      rows.append([p.device, p.name, Console.state(p.state), p.firmware, p.platform])
    }
    Console.line(Console.table(rows))
  }
}

/// `rproc status [NAME]`: one or every processor in detail.
struct Status: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Show processors in detail: state, firmware, recovery, traces, terminals, channels, core dumps.")

  @Argument(help: "A processor (remoteproc0, its index or its name); all when absent.")
  var name: String?

  @OptionGroup var client: ClientOptions

  func run() async throws {
    let connection = try await client.connect("rproc status")
    let status = try await client.run("rproc status") { () throws(RprocdError) in
      try await connection.request(Request(.status, processor: name), as: StatusList.self)
    }
    if client.json { return Console.json(status) }
    Console.line(status.processors.map(Self.text).joined(separator: "\n"))
  }

  static func text(_ p: ProcessorStatus) -> String {
    var lines = ["\(Console.styled(p.device, .bold)) (\(p.name), \(p.platform)): \(Console.state(p.state))"]
    lines.append("  firmware      \(p.firmware) in \(p.firmwareDirectory)")
    lines.append("  recovery      \(p.recovery), coredump \(p.coredump), \(p.crashes) crash\(p.crashes == 1 ? "" : "es"), on exit \(p.onExit)")
    if !p.traces.isEmpty { lines.append("  traces        \(p.traces.enumerated().map { "trace\($0.offset) (\($0.element))" }.joined(separator: ", "))") }
    for port in p.serialPorts { lines.append("  serial \(port.vdev)      \(Console.styled(port.tty, .cyan))   (screen \(port.tty))") }
    for c in p.channels {
      var line = "  rpmsg         \(c.name)  0x\(String(c.source, radix: 16)) → 0x\(String(c.destination, radix: 16))"
      if let tty = c.tty { line += "  \(Console.styled(tty, .cyan))" }
      lines.append(line)
    }
    for d in p.coredumps { lines.append("  core dump \(d.number)   \(d.crash), \(d.bytes) bytes: \(d.details)") }
    if p.monitors > 0 { lines.append("  monitors      \(p.monitors)") }
    return lines.joined(separator: "\n")
  }
}

/// `rproc start NAME` and `rproc stop NAME`: `echo start > state`.
struct Start: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Boot a processor with its firmware (as echo start > state).")

  @Argument(help: "The processor (remoteproc0, its index or its name).")
  var name: String

  @OptionGroup var client: ClientOptions

  func run() async throws {
    try await changeState(.start, name, client)
  }
}

struct Stop: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Stop a processor (as echo stop > state).")

  @Argument(help: "The processor (remoteproc0, its index or its name).")
  var name: String

  @OptionGroup var client: ClientOptions

  func run() async throws {
    try await changeState(.stop, name, client)
  }
}

func changeState(_ operation: Request.Operation, _ name: String, _ client: ClientOptions) async throws {
  let command = "rproc \(operation.rawValue)"
  let connection = try await client.connect(command)
  let summary = try await Console.progress("\(operation == .start ? "starting" : "stopping") \(name)") {
    try await client.run(command) { () throws(RprocdError) in
      try await connection.request(Request(operation, processor: name), as: ProcessorSummary.self)
    }
  }
  if client.json { return Console.json(summary) }
  Console.line("\(summary.device): \(Console.state(summary.state)) (\(summary.firmware))")
}

/// `rproc firmware NAME FILE`: `echo FILE > firmware`.
struct Firmware: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Choose the firmware a processor boots next (as echo FILE > firmware; only while offline).",
    discussion: """
      FILE is a name inside the processor's firmware directory (ti/ipu1.xem4), or a path \
      starting with /, ./ or ../ that leads inside it; anything else is refused.
      """)

  @Argument(help: "The processor (remoteproc0, its index or its name).")
  var name: String

  @Argument(help: "The firmware: a file name in the firmware directory.")
  var file: String

  @OptionGroup var client: ClientOptions

  func run() async throws {
    let connection = try await client.connect("rproc firmware")
    // A path (not a name) is made absolute here, so the daemon checks where it leads.
    var given = file
    if file.hasPrefix("./") || file.hasPrefix("../") {
      given = URL(fileURLWithPath: file).standardizedFileURL.path
    }
    let summary = try await client.run("rproc firmware") { () throws(RprocdError) in
      try await connection.request(Request(.firmware, processor: name, name: given), as: ProcessorSummary.self)
    }
    if client.json { return Console.json(summary) }
    Console.line("\(summary.device): firmware \(summary.firmware)")
  }
}

/// `rproc trace NAME`: the firmware's trace buffer.
struct Trace: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Print a processor's trace buffer (debugfs traceN).")

  @Argument(help: "The processor (remoteproc0, its index or its name).")
  var name: String

  @Option(help: "Which trace buffer.")
  var index = 0

  @Flag(help: "Keep printing what the firmware adds, until interrupted.")
  var follow = false

  @OptionGroup var client: ClientOptions

  func run() async throws {
    let connection = try await client.connect("rproc trace")
    let request = Request(.trace, processor: name, index: index)
    let first = try await client.run("rproc trace") { () throws(RprocdError) in
      try await connection.request(request, as: TraceText.self)
    }
    if client.json, !follow { return Console.json(first) }
    emit(first.text)
    guard follow else { return }
    var shown = first.text.utf8.count
    let interrupts = Interrupts()
    let poller = Task {
      while !Task.isCancelled {
        try? await Task.sleep(for: .milliseconds(200))
        guard let now = try? await connection.request(request, as: TraceText.self) else { continue }
        let count = now.text.utf8.count
        if count > shown { emit(String(decoding: Array(now.text.utf8).dropFirst(shown), as: UTF8.self)) }
        shown = count
      }
    }
    await interrupts.next()
    poller.cancel()
  }

  func emit(_ text: String) {
    if client.json {
      Console.json(TraceText(index: index, text: text), line: true)
    } else {
      FileHandle.standardOutput.write(Data(text.utf8))
    }
  }
}

/// `rproc coredump NAME`: save a core dump.
struct Coredump: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Save a processor's core dump (an ELF core, taken on a crash when coredump is enabled).")

  @Argument(help: "The processor (remoteproc0, its index or its name).")
  var name: String

  @Option(name: .shortAndLong, help: "Where to write it (default: NAME-coreN.elf here; - for standard output).")
  var output: String?

  @Option(help: "Which dump (its crash number); the newest when absent.")
  var number: Int?

  @Flag(help: "List the dumps kept instead.")
  var list = false

  @OptionGroup var client: ClientOptions

  func run() async throws {
    let connection = try await client.connect("rproc coredump")
    if list {
      let dumps = try await client.run("rproc coredump") { () throws(RprocdError) in
        try await connection.request(Request(.coredumps, processor: name), as: CoredumpList.self)
      }
      if client.json { return Console.json(dumps) }
      if dumps.coredumps.isEmpty { Console.line("no core dumps") }
      for d in dumps.coredumps { Console.line("\(d.number)  \(d.crash)  \(d.bytes) bytes  \(d.details)") }
      return
    }
    let dump = try await Console.progress("reading the core dump") {
      try await client.run("rproc coredump") { () throws(RprocdError) in
        try await connection.request(Request(.coredump, processor: name, number: number), as: CoredumpData.self)
      }
    }
    if output == "-" {
      FileHandle.standardOutput.write(dump.data)
      return
    }
    let path = output ?? "\(name)-core\(dump.info.number).elf"
    guard FileManager.default.createFile(atPath: path, contents: dump.data) else {
      Console.error("rproc coredump: cannot write \(path)")
      throw ExitCode(1)
    }
    struct Saved: Encodable { var path: String; var info: CoredumpInfo }
    if client.json { return Console.json(Saved(path: path, info: dump.info)) }
    Console.line("\(path): core dump \(dump.info.number) (\(dump.info.crash), \(dump.info.bytes) bytes)")
  }
}
