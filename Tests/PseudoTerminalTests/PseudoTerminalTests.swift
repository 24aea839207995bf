import CSystemShims
import Foundation
import Glibc
import PseudoTerminal
import SharedMemory
import Testing

/// The test plays the user: it opens `/dev/pts/N` the way `picocom` or `screen` would
/// (read-write, no controlling terminal) and exchanges bytes with the master.
@Suite(.timeLimit(.minutes(1))) struct PseudoTerminalTests {
  static func openSlave(_ terminal: PseudoTerminal) throws -> Int32 {
    try FileDescriptorIO.open(terminal.slavePath, flags: O_RDWR | O_NOCTTY | O_CLOEXEC)
  }

  @Test func slavePathNamesTheTerminal() throws {
    let terminal = try PseudoTerminal()
    #expect(terminal.slavePath == "/dev/pts/\(terminal.number)")
    #expect(FileManager.default.fileExists(atPath: terminal.slavePath))
    #expect(try terminal.isRaw)
    let other = try PseudoTerminal()
    #expect(other.number != terminal.number)
  }

  @Test func bytesCrossInBothDirectionsUnchanged() throws {
    let terminal = try PseudoTerminal()
    let user = try Self.openSlave(terminal)
    defer { close(user) }
    // \r and \n and 0x03 (^C) and 0x7f pass unchanged in raw mode.
    let typed: [UInt8] = Array("Hello\r\n".utf8) + [0x03, 0x7F, 0x00, 0xFF]
    try FileDescriptorIO.writeAll(user, typed)
    var received: [UInt8] = []
    while received.count < typed.count { received += try terminal.read(upTo: 64) }
    #expect(received == typed)
    // No echo back to the user.
    #expect(rproc_poll_readable(user, -1, 0) == 0)

    let reply: [UInt8] = Array("hELLO\n".utf8) + [0x00, 0x1B]
    try terminal.write(reply)
    var shown: [UInt8] = []
    while shown.count < reply.count { shown += try FileDescriptorIO.read(user, upTo: 64) }
    #expect(shown == reply)
  }

  @Test func usersMayComeAndGo() throws {
    let terminal = try PseudoTerminal()
    for round in 0..<3 {
      let user = try Self.openSlave(terminal)
      try FileDescriptorIO.writeAll(user, Array("round \(round)".utf8))
      close(user)
      var received: [UInt8] = []
      while received.count < 7 { received += try terminal.read(upTo: 64) }
      #expect(received == Array("round \(round)".utf8))
    }
    #expect(!terminal.hasInput)
  }

  @Test func cookedModeTranslatesAndRawModeRestoresByteTransparency() throws {
    let terminal = try PseudoTerminal(raw: false)
    #expect(try !terminal.isRaw)
    let user = try Self.openSlave(terminal)
    defer { close(user) }
    // A cooked line turns the user's \n into \r\n (ONLCR) on the way to the master.
    try FileDescriptorIO.writeAll(user, Array("a\n".utf8))
    var cooked: [UInt8] = []
    while cooked.count < 3 { cooked += try terminal.read(upTo: 64) }
    #expect(cooked == Array("a\r\n".utf8))
    try terminal.setRawMode()
    #expect(try terminal.isRaw)
    try FileDescriptorIO.writeAll(user, Array("b\n".utf8))
    var raw: [UInt8] = []
    while raw.count < 2 { raw += try terminal.read(upTo: 64) }
    #expect(raw == Array("b\n".utf8))
  }

  @Test func shutdownWakesABlockedReader() async throws {
    let terminal = try PseudoTerminal()
    let reader = Task.detached { () -> PseudoTerminalError? in
      do throws(PseudoTerminalError) {
        _ = try terminal.read()
        return nil
      } catch {
        return error
      }
    }
    terminal.shutdown()
    let error = await reader.value
    #expect(error?.code == .closed)
    #expect { try terminal.write([1]) } throws: { ($0 as? PseudoTerminalError)?.code == .closed }
  }
}
