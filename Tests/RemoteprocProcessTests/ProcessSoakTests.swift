import Foundation
import RPMsg
import Remoteproc
import RemoteprocNative
import RemoteprocProcess
import Synchronization
import Testing

/// Checks echoed soak messages: each carries a sequence number, filler and a checksum, and
/// must come back once, in order, intact.
final class SoakChecker: Sendable {
  struct State {
    var next: UInt64 = 0
    var problems: [String] = []
  }
  let state = Mutex(State())
  let received = Atomic<Int>(0)
  /// A sender waiting for room in its window.
  let waiter = Mutex<CheckedContinuation<Void, Never>?>(nil)

  /// Returns once fewer than `window` of the `sent` messages are unanswered.
  func waitForRoom(sent: Int, window: Int) async {
    await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
      waiter.withLock { w in
        if sent - received.load(ordering: .acquiring) < window { continuation.resume() } else { w = continuation }
      }
    }
  }

  static func message(_ sequence: UInt64) -> [UInt8] {
    var bytes = (0..<8).map { UInt8(truncatingIfNeeded: sequence >> (8 * UInt64($0))) }
    let filler = 8 + Int(sequence % 200)  // 8…207 bytes, so sizes vary
    for i in 0..<filler { bytes.append(UInt8(truncatingIfNeeded: sequence &* 31 &+ UInt64(i))) }
    let sum = fnv1a(bytes)
    bytes.append(contentsOf: (0..<4).map { UInt8(truncatingIfNeeded: sum >> (8 * UInt32($0))) })
    return bytes
  }

  static func fnv1a(_ bytes: [UInt8]) -> UInt32 {
    var hash: UInt32 = 2_166_136_261
    for byte in bytes { hash = (hash ^ UInt32(byte)) &* 16_777_619 }
    return hash
  }

  func check(_ bytes: [UInt8]) {
    state.withLock { s in
      guard bytes.count >= 12 else {
        s.problems.append("a \(bytes.count)-byte message")
        return
      }
      let body = Array(bytes.dropLast(4))
      let sum = bytes.suffix(4).enumerated().reduce(UInt32(0)) { $0 | UInt32($1.element) << (8 * UInt32($1.offset)) }
      let sequence = body.prefix(8).enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
      if sum != Self.fnv1a(body) || bytes != Self.message(sequence) {
        s.problems.append("message \(sequence) corrupted")
      } else if sequence != s.next {
        s.problems.append(sequence < s.next ? "message \(sequence) duplicated or late" : "messages \(s.next)..<\(sequence) lost")
        s.next = max(s.next, sequence + 1)
      } else {
        s.next += 1
      }
      if s.problems.count > 20 { s.problems.removeLast() }
    }
    received.add(1, ordering: .releasing)
    waiter.withLock { w in
      w?.resume()
      w = nil
    }
  }
}

/// This process's resident memory in bytes (`/proc/self/statm`).
func residentBytes() -> Int {
  let text = (try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8)) ?? ""
  let pages = text.split(separator: " ").dropFirst().first.flatMap { Int($0) } ?? 0
  return pages * 4096
}

func environmentCount(_ name: String, default value: Int) -> Int {
  ProcessInfo.processInfo.environment[name].flatMap { Int($0) } ?? value
}

@Suite(.serialized) struct ProcessSoakTests {
  /// 100,000 echoed messages per doorbell mode in CI; `RPROC_SOAK_MESSAGES=10000000` for the full soak
  /// (docs/process-platform.md records both).
  @Test(arguments: [DoorbellMode.sleep, .adaptive])
  func echoedMessagesComeBackOnceInOrderAndIntactWithMemoryFlat(mode: DoorbellMode) async throws {
    let total = environmentCount("RPROC_SOAK_MESSAGES", default: 100_000)
    let checker = SoakChecker()
    let host = try await ProcessHost(
      firmware: "rpmsg-bench-native.elf", services: ["rpmsg-bench-echo"], options: .init(doorbell: mode),
      onReceive: { bytes, _ in checker.check(bytes) })
    do {
      try await host.processor.boot()
      let channel = try await host.channel("rpmsg-bench-echo")
      let endpoint = channel.endpoint
      var sent = 0
      var baseline = 0
      while sent < total {
        if sent >= total / 10, baseline == 0 { baseline = residentBytes() }
        // Up to 128 in flight; bursts ring the doorbell once.
        let room = min(128 - (sent - checker.received.load(ordering: .acquiring)), total - sent)
        var burst = 0
        if room > 0 {
          burst = try host.platform.batchingKicks { () throws(RPMsgError) -> Int in
            var n = 0
            while n < room {
              do throws(RPMsgError) {
                try endpoint.trySend(SoakChecker.message(UInt64(sent + n)), to: channel.destination)
              } catch {
                if error.code == .noBuffer { break }
                throw error
              }
              n += 1
            }
            return n
          }
        }
        sent += burst
        if burst == 0 {
          if room > 0 { try await endpoint.waitUntilWritable(timeout: .seconds(15)) }
          else { await checker.waitForRoom(sent: sent, window: 128) }
        }
      }
      try await eventually("every echo", seconds: 60) { checker.received.load(ordering: .acquiring) >= total }
      let problems = checker.state.withLock { $0.problems }
      #expect(problems.isEmpty, "\(problems)")
      #expect(checker.state.withLock { $0.next } == UInt64(total))
      #expect(checker.received.load(ordering: .acquiring) == total)
      let growth = residentBytes() - baseline
      #expect(growth < 16 << 20, "resident memory grew by \(growth) bytes over \(total - total / 10) messages")
      #expect(host.bus?.counters.droppedBadBuffer == 0)
    } catch {
      await host.close()
      throw error
    }
    await host.close()
  }

  /// 100 times: the firmware is stopped mid-stream with all buffers in flight and a send
  /// waiting, then killed with SIGKILL. The host stays up, the waiting send fails with a
  /// reset, recovery starts a new firmware, and traffic resumes. `RPROC_KILL_CYCLES` changes
  /// the count.
  @Test func killedWithSIGKILLMidStreamAHundredTimes() async throws {
    let cycles = environmentCount("RPROC_KILL_CYCLES", default: 100)
    let host = try await ProcessHost(firmware: "rpmsg-echo-native.elf", services: ["rpmsg-tty"])
    do {
      try await host.processor.boot()
      for cycle in 0..<cycles {
        let channel = try await host.channel("rpmsg-tty")
        let pid = try #require(host.platform.processID)
        // Mid-stream: messages go out and echoes come back.
        let before = host.probe.messages.count
        for i in 0..<8 { try await channel.send(Array("cycle \(cycle) message \(i)".utf8)) }
        try await eventually("echoes of cycle \(cycle)") { host.probe.messages.count >= before + 8 }
        // Stop it, fill every buffer, and leave a send waiting for one.
        _ = kill(pid, SIGSTOP)
        var filled = 0
        while (try? channel.trySend(Array("filler".utf8))) != nil { filled += 1 }
        let waiting = Task { () -> RPMsgError? in
          do throws(RPMsgError) {
            try await channel.send(Array("pending".utf8), timeout: .seconds(60))
            return nil
          } catch { return error }
        }
        _ = kill(pid, SIGKILL)
        let error = await waiting.value
        #expect(error?.code == .reset, "cycle \(cycle): the pending send ended with \(String(describing: error))")
        #expect(error?.message.contains("crashed") == true, "cycle \(cycle): \(error?.message ?? "")")
        try await eventually("recovery \(cycle)") {
          await host.processor.state == .running && host.platform.processID != pid
            && host.probe.channel("rpmsg-tty") != nil
        }
        #expect(!processExists(pid))
        #expect(filled > 0)
      }
      // Traffic after the last recovery.
      let channel = try await host.channel("rpmsg-tty")
      try await channel.send(Array("the end".utf8))
      try await eventually("the last echo") { host.probe.messages.contains(Array("the end".utf8)) }
      #expect(await host.processor.crashCount == cycles)
    } catch {
      await host.close()
      throw error
    }
    await host.close()
  }
}
