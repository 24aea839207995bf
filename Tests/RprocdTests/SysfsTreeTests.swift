import Foundation
import Glibc
import Testing

extension DaemonTests {
  /// rprocd's tree through its FUSE mount, with plain `echo` and `cat` as a shell script
  /// written for /sys/class/remoteproc would use them.
  @Suite(.enabled(if: Repository.built, Repository.skipReason), .timeLimit(.minutes(1)))
  struct SysfsTreeTests {
    @Test func echoStartAndCatStateBehaveAsOnLinux() async throws {
      try await withDaemon { (d: TestDaemon) async throws in
        let rp = d.processor(0)
        let before = try await shell("cd \"$1\" && ls && cat name firmware state recovery coredump", rp)
        #expect(before.output == """
          carveout_memories
          coredump
          crash
          firmware
          name
          recovery
          resource_table
          state
          mips32
          case-invert-mips32.elf
          offline
          enabled
          disabled

          """)
        let start = try await shell("echo start > \"$1/state\" && cat \"$1/state\"", rp)
        #expect(start.status == 0, "\(start.error)\n\(d.log.text)")
        #expect(start.output == "running\n")
        // The debugfs files of a running remote are there as soon as the write returned.
        let running = try await shell("cd \"$1\" && ls && cat trace0 && cat resource_table | head -2", rp)
        #expect(running.output.contains("serial0\nstate\ntrace0\n"))
        #expect(running.output.contains("case-invert on mips32: hello\n"))
        #expect(running.output.contains("Entry 0 is of type trace"), "\(running.output)")
        let carveouts = try await shell("cat \"$1/carveout_memories\"", rp)
        #expect(carveouts.output.contains("Carveout memory entry:\n\tName: vdev0vring0\n"))
        #expect(try await shell("cat \"$1/serial0\"", rp).output.hasPrefix("/dev/pts/"))

        let stop = try await shell("echo stop > \"$1/state\" && cat \"$1/state\" && ls \"$1\"", rp)
        #expect(stop.output.hasPrefix("offline\n"))
        #expect(!stop.output.contains("trace0"))
        #expect(try await shell("cat \"$1/resource_table\"", rp).output == "No resource table found\n")
      }
    }

    @Test func everyAttributeRefusesBadWordsWithLinuxErrors() async throws {
      try await withDaemon { (d: TestDaemon) async throws in
        let rp = d.processor(0)
        func write(_ word: String, _ file: String) async throws -> String {
          let result = try await shell("/bin/echo \"$1\" > \"$2/$3\"", word, rp, file)
          return result.status == 0 ? "ok" : result.error
        }
        #expect(try await write("begin", "state").contains("Invalid argument"))
        #expect(try await write("", "firmware").contains("Invalid argument"))
        #expect(try await write("../../etc/passwd", "firmware").contains("Invalid argument"))
        #expect(try await write("/etc/passwd", "firmware").contains("Invalid argument"))
        #expect(try await write("maybe", "recovery").contains("Invalid argument"))
        #expect(try await write("sometimes", "coredump").contains("Invalid argument"))
        #expect(try await write("boom", "crash").contains("Invalid argument"))
        #expect(try await write("2", "crash").contains("Invalid argument"))  // offline: nothing to crash
        #expect(try await write("bob", "name").contains("Permission denied"))
        #expect(try await write("x", "resource_table").contains("Permission denied"))
        #expect(try await shell("cat \"$1/crash\"", rp).error.contains("Permission denied"))
        // Good words are taken, and stick.
        #expect(try await write("inline", "coredump") == "ok")
        #expect(try await write("disabled", "recovery") == "ok")
        #expect(try await shell("cat \"$1/coredump\" \"$1/recovery\"", rp).output == "inline\ndisabled\n")

        #expect(try await write("start", "state") == "ok")
        #expect(try await write("start", "state").contains("Device or resource busy"))
        #expect(try await write("case-invert-rv32.elf", "firmware").contains("Device or resource busy"))
        #expect(try await write("sometimes", "coredump").contains("Invalid argument"))
        #expect(try await write("stop", "state") == "ok")
        #expect(try await write("case-invert-legacy-mips32.elf", "firmware") == "ok")
        #expect(try await shell("cat \"$1/firmware\"", rp).output == "case-invert-legacy-mips32.elf\n")
      }
    }

    @Test func aCrashLeavesADevcoredumpThatAWriteFrees() async throws {
      try await withDaemon(twoProcessors(coredump: "enabled")) { (d: TestDaemon) async throws in
        let rp = d.processor(1)
        #expect(try await shell("echo start > \"$1/state\" && echo 2 > \"$1/crash\"", rp).status == 0)
        // Recovery ran (the default), and the dump is there.
        #expect(try await shell("cat \"$1/state\"", rp).output == "running\n")
        let dump = try await shell("head -c 4 \"$1/devcoredump\" | od -An -c", rp)
        #expect(dump.output.replacingOccurrences(of: " ", with: "") == "177ELF\n", "\(dump)")
        #expect(try await shell("echo 1 > \"$1/devcoredump\"", rp).status == 0)
        #expect(!FileManager.default.fileExists(atPath: rp + "/devcoredump"))
        #expect(try await shell("echo stop > \"$1/state\"", rp).status == 0)
      }
    }

    @Test func channelFoldersComeAndGoWithTheFirmwaresAnnouncements() async throws {
      try await withDaemon { (d: TestDaemon) async throws in
        let rp = d.processor(1)
        let rpmsg = d.mount + "/rpmsg"
        #expect(try await shell("ls \"$1\"", rpmsg).output == "")
        #expect(try await shell("echo start > \"$1/state\"", rp).status == 0)
        // The firmware announces its channels a moment after it starts.
        #expect(await eventually { ((try? FileManager.default.contentsOfDirectory(atPath: rpmsg)) ?? []).count == 2 })
        let listing = try await shell("ls \"$1\"", rpmsg)
        #expect(listing.output == "virtio0.rpmsg-client-sample.-1.1024\nvirtio0.rpmsg-tty.-1.1025\n")
        let sample = try await shell("cd \"$1/virtio0.rpmsg-client-sample.-1.1024\" && ls && cat name src dst announce", rpmsg)
        #expect(sample.output == "announce\ndst\nname\nsrc\nrpmsg-client-sample\n0x400\n0x400\nfalse\n")
        #expect(await eventually { FileManager.default.fileExists(atPath: rpmsg + "/virtio0.rpmsg-tty.-1.1025/tty") })
        let tty = try await shell("cat \"$1/virtio0.rpmsg-tty.-1.1025/tty\"", rpmsg)
        #expect(tty.output.hasPrefix("/dev/pts/"))

        #expect(try await shell("echo stop > \"$1/state\"", rp).status == 0)
        #expect(try await shell("ls \"$1\"", rpmsg).output == "")
      }
    }

    @Test func theSerialPortIsATerminalThatScreenCouldOpen() async throws {
      try await withDaemon { (d: TestDaemon) async throws in
        let rp = d.processor(0)
        #expect(try await shell("echo start > \"$1/state\"", rp).status == 0)
        let tty = try await shell("cat \"$1/serial0\"", rp).output.trimmingCharacters(in: .newlines)
        // A user opens the terminal, types a line and reads the firmware's answer.
        let session = try await shell(
          "exec 3<>\"$1\" && printf 'Hello, Remote World\\n' >&3 && head -c 20 <&3", tty)
        #expect(session.output == "hELLO, rEMOTE wORLD\n", "\(session.error)")
      }
    }

    @Test func stoppingTheDaemonUnmountsAndRemovesTheSocket() async throws {
      var mount = ""
      var socket = ""
      weak var platform: AnyObject?
      try await withDaemon { (d: TestDaemon) async throws in
        mount = d.mount
        socket = d.socket
        platform = d.daemon.processors[1].platform
        #expect(isMounted(d.mount))
        #expect(FileManager.default.fileExists(atPath: d.socket))
        #expect(try await shell("echo start > \"$1/state\"", d.processor(1)).status == 0)
        await d.daemon.stop()
        #expect(!isMounted(d.mount))
        #expect(!FileManager.default.fileExists(atPath: d.socket))
        #expect(await d.daemon.processors[1].state == .offline)
      }
      #expect(!isMounted(mount))
      #expect(!FileManager.default.fileExists(atPath: socket))
      // Nothing keeps the processors alive: an emulated core (its memory, its emulator slot)
      // is freed with the daemon.
      #expect(await eventually { platform == nil })
    }
  }
}
