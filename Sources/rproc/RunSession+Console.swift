import Foundation
import RPMsg
import RPMsgDrivers
import Remoteproc
import SharedMemory
import Synchronization
import VirtioSerial

/// The device `--console` talks to.
enum ConsoleDevice: Sendable {
  case serial(VirtioSerialPort)
  case tty(RPMsgTTYPort)

  var description: String {
    switch self {
    case .serial: "serial port"
    case .tty(let port): "rpmsg-tty channel \(port.channel.name)"
    }
  }

  func write(_ bytes: [UInt8]) async throws {
    switch self {
    case .serial(let port): try await port.write(bytes, timeout: .seconds(15))
    case .tty(let port):
      for start in stride(from: 0, to: bytes.count, by: RPMsgWire.mtu) {
        try await port.write(Array(bytes[start..<min(start + RPMsgWire.mtu, bytes.count)]))
      }
    }
  }
}

extension RunSession {
  /// The firmware's serial port, or else its rpmsg-tty channel, once it is up.
  func findConsole(timeout: Duration) async -> ConsoleDevice? {
    let deadline = ContinuousClock.now.advanced(by: timeout)
    let name = processor.deviceName
    repeat {
      for index in 0..<8 {
        if let port = drivers.serialPort(processor: name, index: index), port.isRunning { return .serial(port) }
      }
      if let port = tty.openPorts.first { return .tty(port) }
      try? await Task.sleep(for: .milliseconds(5))
    } while ContinuousClock.now < deadline
    return nil
  }

  /// Copies standard input to the console device and what comes back to standard output,
  /// until end of input and then until the replies stop coming. Returns the exit status.
  func runConsole(deviceTimeout: Duration) async -> Int32 {
    guard let device = await findConsole(timeout: deviceTimeout) else {
      Output.error(
        "\(command): the firmware has no serial port and announced no \(tty.serviceNames.joined(separator: " or ")) channel within \(deviceTimeout); it cannot be used with --console")
      return 1
    }
    Output.error("\(processor.deviceName): console on the \(device.description)")
    let traffic = Traffic()
    let incoming: AsyncStream<[UInt8]> =
      switch device {
      case .serial: received
      case .tty(let port): port.input
      }
    let printer = Task {
      for await bytes in incoming {
        FileHandle.standardOutput.write(Data(bytes))
        traffic.received(bytes.count)
      }
    }
    defer { printer.cancel() }
    for await chunk in StandardInput.chunks() {
      do {
        try await device.write(chunk)
        traffic.sent(chunk.count)
      } catch {
        Output.error("\(command): writing to the \(device.description) failed: \(error)")
        return 1
      }
    }
    // End of input: wait for the replies (until as many bytes came back as went out and the
    // device has been quiet for a moment, or 5 s at most), as a terminal program would.
    let deadline = ContinuousClock.now.advanced(by: .seconds(5))
    while ContinuousClock.now < deadline {
      let (sent, got, quiet) = traffic.snapshot
      if got >= sent && quiet > .milliseconds(100) { break }
      if got < sent || quiet <= .milliseconds(100) {
        try? await Task.sleep(for: .milliseconds(10))
      }
    }
    if await processor.state == .crashed {
      Output.error("\(command): \(processor.deviceName) crashed")
      return 2
    }
    return 0
  }
}

/// Bytes sent and received, and when the last ones arrived.
final class Traffic: Sendable {
  private struct Counts {
    var sent = 0
    var received = 0
    var last = ContinuousClock.now
  }
  private let counts = Mutex(Counts())

  func sent(_ n: Int) { counts.withLock { $0.sent += n } }
  func received(_ n: Int) {
    counts.withLock {
      $0.received += n
      $0.last = .now
    }
  }
  var snapshot: (sent: Int, received: Int, quiet: Duration) {
    counts.withLock { ($0.sent, $0.received, ContinuousClock.now - $0.last) }
  }
}

/// Standard input as chunks of bytes, read on a thread of its own (a blocking read).
enum StandardInput {
  static func chunks() -> AsyncStream<[UInt8]> {
    let (stream, continuation) = AsyncStream.makeStream(of: [UInt8].self)
    let thread = Thread {
      while true {
        guard let bytes = try? FileDescriptorIO.read(0, upTo: 4096), !bytes.isEmpty else { break }
        continuation.yield(bytes)
      }
      continuation.finish()
    }
    thread.name = "rproc-stdin"
    thread.start()
    return stream
  }
}
