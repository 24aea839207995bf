import ArgumentParser
import Foundation
import RPMsg
import RPMsgDrivers
import Remoteproc
import RemoteprocOpenAMP
import RemoteprocVirtio
import Synchronization

extension OpenAMP {
  /// `rproc openamp attach`: our host on OpenAMP's remote.
  struct Attach: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Attach to a running OpenAMP Linux-machine remote as its host (the virtio driver).",
      discussion: """
        The remote (OpenAMP's rpmsg-echo, or 'rproc openamp echo-remote') must be running: it \
        writes the table and listens on the socket. State changes and channels go to standard \
        error. With --console, standard input goes to the channel (one message per read, at most \
        496 bytes each) and what comes back to standard output; with --ping N, 'hello world!' is \
        sent N times, each after the echo of the last (Linux's rpmsg-client-sample); otherwise it \
        stays attached until interrupted or until the remote goes away (exit status 2). On exit \
        it lets go of the remote (detach), which keeps running.

        Example: rproc openamp attach --ping 100
        """)

    @OptionGroup var layout: OpenAMPLayoutOptions

    @Option(help: "Seconds to keep trying to connect while nobody listens on the socket.")
    var wait = 0.0

    @Option(help: "The remote's rpmsg service to talk to.")
    var channel = "rpmsg-openamp-demo-channel"

    @Flag(help: "Join standard input and output to the channel until end of input.")
    var console = false

    @Option(help: "Send 'hello world!' this many times, each after the echo of the last, then exit.")
    var ping: Int?

    @Option(help: "Seconds to wait for the channel to appear.")
    var deviceTimeout = 5.0

    func validate() throws {
      guard !(console && ping != nil) else { throw ValidationError("'--console' and '--ping' cannot be used together.") }
      if let ping, ping < 1 { throw ValidationError("'--ping' must be at least 1.") }
      guard wait >= 0 else { throw ValidationError("'--wait' cannot be negative.") }
      guard deviceTimeout > 0 else { throw ValidationError("'--device-timeout' must be positive.") }
    }

    func run() async throws {
      let command = "rproc openamp attach"
      let configuration = layout.configuration
      let platform = try OpenAMPPlatform(configuration: configuration, connectTimeout: .milliseconds(Int(wait * 1000)))
      let registry = RemoteprocRegistry()
      let tty = RPMsgTTYDriver(serviceNames: [channel])
      let sample = RPMsgClientSampleDriver(serviceNames: [channel], rounds: ping ?? 1)
      let pinging = ping != nil
      let drivers = RemoteprocVirtioDrivers(
        newBus: { _, _, bus in bus.register(pinging ? sample : tty) }, events: registry.events)
      var options = RemoteProcessor.Options()
      options.recoveryDisabled = true  // nothing to reload: the remote is someone else's
      let processor = await registry.add(
        name: "openamp", firmware: "", platform: platform, firmwareStore: FirmwareStore(directories: []),
        drivers: drivers, options: options
      ).processor
      let session = RunSession(
        registry: registry, processor: processor, drivers: drivers, tty: tty,
        received: AsyncStream { $0.finish() }, command: command)
      session.watchEvents()
      Output.error(
        "\(processor.deviceName): OpenAMP remote, table in \(configuration.sharedMemoryPath) at \(Number(configuration.tableOffset)), kicks on \(configuration.socketPath)"
      )
      do {
        try await processor.boot()
      } catch {
        Output.error("\(command): \(error.message)")
        await session.stop()
        throw ExitCode(1)
      }
      var status: Int32 = 0
      if console {
        status = await session.runConsole(deviceTimeout: .milliseconds(Int(deviceTimeout * 1000)))
      } else if let ping {
        status = await self.ping(ping, sample: sample, processor: processor)
      } else if await !session.runUntilInterrupted(orCrash: true) {
        status = 2
      }
      await session.stop(detach: true)
      if status != 0 { throw ExitCode(status) }
    }

    /// Waits for the client sample's report (or a crash, or a deadline) and prints it. A
    /// remote that goes away after the last echo (OpenAMP's rpmsg-sample-echo exits after 100)
    /// still passed.
    func ping(_ rounds: Int, sample: RPMsgClientSampleDriver, processor: RemoteProcessor) async -> Int32 {
      let deadline = ContinuousClock.now.advanced(by: .milliseconds(Int(deviceTimeout * 1000)) + .seconds(30))
      // The finished report comes on a stream (the channel, and its running report, may be
      // gone by the time we look); the running one is polled for a remote that stops early.
      let finished = Mutex<RPMsgClientSampleReport?>(nil)
      let stream = sample.finished
      let listener = Task {
        for await report in stream {
          finished.withLock { $0 = report }
          break
        }
      }
      defer { listener.cancel() }
      var last: RPMsgClientSampleReport?
      var crashed = false
      while ContinuousClock.now < deadline {
        last = finished.withLock({ $0 }) ?? sample.reports.first ?? last
        if last?.finished == true { break }
        if await processor.state == .crashed {
          crashed = true
          try? await Task.sleep(for: .milliseconds(50))  // an echo that came before the end
          last = finished.withLock({ $0 }) ?? sample.reports.first ?? last
          break
        }
        try? await Task.sleep(for: .milliseconds(10))
      }
      guard let report = last else {
        Output.error("rproc openamp attach: the remote announced no \(channel) channel")
        return crashed ? 2 : 1
      }
      print(
        "rpmsg-client-sample on \(channel) (remote address \(hex(report.remote.rawValue, width: 0))): \(report.sent) sent, \(report.received) echoed, \(report.mismatches) mismatched"
      )
      if report.finished && report.mismatches == 0 { return 0 }
      return crashed ? 2 : 1
    }
  }
}
