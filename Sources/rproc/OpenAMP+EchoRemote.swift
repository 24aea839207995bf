import ArgumentParser
import Dispatch
import Foundation
import RPMsg
import RemoteprocOpenAMP
import Synchronization

extension OpenAMP {
  /// `rproc openamp echo-remote`: OpenAMP's rpmsg-echo in Swift.
  struct EchoRemote: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "echo-remote",
      abstract: "Be a remote that OpenAMP's Linux-machine host attaches to, echoing every message.",
      discussion: """
        Creates the shared-memory file (zeroed), writes the resource table at its offset (by \
        default OpenAMP's, byte for byte), listens on the socket, and serves one host after \
        another until interrupted: it announces each --service and sends every message back to \
        its sender. Hosts: OpenAMP's 'rpmsg-echo-ping-shared 1' (the client end of the socket) or \
        'rproc openamp attach'. Host connections go to standard error.

        Example: rproc openamp echo-remote & rproc openamp attach --ping 100
        """)

    @OptionGroup var layout: OpenAMPLayoutOptions

    @Option(name: .customLong("service"), help: "A service to announce and echo on (repeat for more).")
    var services: [String] = ["rpmsg-openamp-demo-channel"]

    @Option(help: "Device address of vring 0 (remote → host).")
    var vring0 = Number(0x4000)

    @Option(help: "Device address of vring 1 (host → remote).")
    var vring1 = Number(0x8000)

    @Option(help: "Entries per vring (a power of two).")
    var vringSize = 256

    @Option(help: "Alignment of each vring's used ring (a power of two).")
    var vringAlign = Number(0x1000)

    func validate() throws {
      guard !services.isEmpty, services.allSatisfy({ !$0.isEmpty && $0.utf8.count < 32 }) else {
        throw ValidationError("each '--service' must be 1...31 bytes (a name-service name has 32 with its NUL).")
      }
      for (name, number) in [("vring0", vring0.value), ("vring1", vring1.value), ("vring-size", vringSize), ("vring-align", vringAlign.value)]
      where number < 0 || number > Int(UInt32.max) {
        throw ValidationError("'--\(name)' must fit 32 bits.")
      }
    }

    func run() async throws {
      let command = "rproc openamp echo-remote"
      let configuration = layout.configuration
      let table = OpenAMPRemote.TableOptions(
        vringAddresses: [UInt32(vring0.value), UInt32(vring1.value)], vringCount: UInt32(vringSize),
        vringAlignment: UInt32(vringAlign.value))
      let remote: OpenAMPRemote
      do { remote = try OpenAMPRemote(configuration: configuration, table: table) } catch {
        Output.error("\(command): \(error)")
        throw ExitCode(1)
      }
      Output.error(
        "openamp remote: table in \(configuration.sharedMemoryPath) at \(Number(configuration.tableOffset)), vrings at \(vring0) and \(vring1), listening on \(configuration.socketPath)"
      )
      let sources = [SIGINT, SIGTERM].map { number -> DispatchSourceSignal in
        signal(number, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: number)
        source.setEventHandler {
          Output.error("openamp remote: signal \(number), stopping")
          remote.stop()
        }
        source.resume()
        return source
      }
      defer { sources.forEach { $0.cancel() } }
      let services = self.services
      // The remote's loop blocks in poll: it runs on a thread of its own, not the pool's.
      let failure = await withCheckedContinuation { (done: CheckedContinuation<OpenAMPError?, Never>) in
        let thread = Thread {
          let host = Atomic<Int>(0)
          do throws(OpenAMPError) {
            try remote.runEcho(
              services: services,
              onHost: { event in
                switch event {
                case .connected(let n):
                  host.store(n, ordering: .relaxed)
                  Output.error("openamp remote: host \(n) connected")
                case .deviceReady:
                  Output.error("openamp remote: host \(host.load(ordering: .relaxed)) set the device up (DRIVER_OK)")
                case .disconnected:
                  Output.error("openamp remote: host \(host.load(ordering: .relaxed)) left; waiting for the next")
                }
              },
              log: { line in Output.error("openamp remote: \(line)") })
            done.resume(returning: nil)
          } catch {
            done.resume(returning: error)
          }
        }
        thread.name = "openamp-echo-remote"
        thread.start()
      }
      if let failure {
        Output.error("\(command): \(failure)")
        throw ExitCode(1)
      }
    }
  }
}
