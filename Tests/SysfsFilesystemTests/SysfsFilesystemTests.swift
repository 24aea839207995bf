import Foundation
import Glibc
import Synchronization
import SysfsFilesystem
import Testing

/// Through a real FUSE mount, with `/bin/echo`, `/bin/cat`, `ls` and `stat` run by `sh`.
@Suite(.timeLimit(.minutes(1))) struct SysfsFilesystemTests {
  /// A processor's folder shaped like Linux's, with a `state` attribute that accepts
  /// `start` and `stop` and refuses other words as Linux does.
  static func processorTree() throws -> (SysfsTree, Locked<String>) {
    let tree = SysfsTree()
    let state = Locked("offline")
    try tree.addDirectory("remoteproc0")
    try tree.addFile("remoteproc0/name", .constant("mips-vpe\n"))
    try tree.addFile(
      "remoteproc0/state",
      SysfsFile(
        show: { [state] in state.value + "\n" },
        store: { [state] text throws(SysfsFilesystemError) in
          switch text.hasSuffix("\n") ? String(text.dropLast()) : text {
          case "start":
            guard state.value == "offline" else { throw .refused(EBUSY, "already running") }
            state.withLock { $0 = "running" }
          case "stop": state.withLock { $0 = "offline" }
          default: throw .refused(EINVAL, "Unrecognised option")
          }
        }))
    try tree.addFile("remoteproc0/crash", SysfsFile(store: { _ in }))
    return (tree, state)
  }

  @Test func catReadsAttributesAndLsListsThem() async throws {
    let (tree, _) = try Self.processorTree()
    try await withMount(tree) { root in
      let listing = try await Shell.run("ls \"$1\" \"$1/remoteproc0\"", root)
      #expect(listing.status == 0)
      #expect(listing.output.contains("crash\nname\nstate\n"))
      let name = try await Shell.run("/bin/cat \"$1/remoteproc0/name\"", root)
      #expect(name.output == "mips-vpe\n")
      let state = try await Shell.run("/bin/cat \"$1/remoteproc0/state\"", root)
      #expect(state.output == "offline\n")
      let modes = try await Shell.run("cd \"$1/remoteproc0\" && stat -c '%A %s %n' crash name state", root)
      #expect(modes.output == "--w------- 4096 crash\n-r--r--r-- 4096 name\n-rw-r--r-- 4096 state\n")
      let folder = try await Shell.run("stat -c '%A' \"$1/remoteproc0\"", root)
      #expect(folder.output == "drwxr-xr-x\n")
    }
  }

  @Test func echoStoresAWordAndBadWordsFailWithTheErrno() async throws {
    let (tree, state) = try Self.processorTree()
    try await withMount(tree) { root in
      let file = root + "/remoteproc0/state"
      let start = try await Shell.run("/bin/echo start > \"$1\"", file)
      #expect(start.status == 0)
      #expect(start.error == "")
      #expect(state.value == "running")
      #expect(try await Shell.run("/bin/cat \"$1\"", file).output == "running\n")

      let again = try await Shell.run("/bin/echo start > \"$1\"", file)
      #expect(again.status != 0)
      #expect(again.error.contains("write error: Device or resource busy"))

      let bad = try await Shell.run("/bin/echo bad > \"$1\"", file)
      #expect(bad.status != 0)
      #expect(bad.error.contains("write error: Invalid argument"))
      #expect(state.value == "running")

      #expect(try await Shell.run("/bin/echo stop > \"$1\"", file).status == 0)
      #expect(state.value == "offline")
    }
  }

  @Test func permissionsAndNamespaceChangesAreRefusedAsOnSysfs() async throws {
    let (tree, _) = try Self.processorTree()
    try await withMount(tree) { root in
      let folder = root + "/remoteproc0"
      let readWriteOnly = try await Shell.run("/bin/cat \"$1/crash\"", folder)
      #expect(readWriteOnly.error.contains("Permission denied"))
      let writeReadOnly = try await Shell.run("/bin/echo x > \"$1/name\"", folder)
      #expect(writeReadOnly.error.contains("Permission denied"))
      let create = try await Shell.run("/bin/echo x > \"$1/new\"", folder)
      #expect(create.error.contains("Permission denied"))
      let mkdir = try await Shell.run("mkdir \"$1/sub\"", folder)
      #expect(mkdir.error.contains("Operation not permitted"))
      let remove = try await Shell.run("rm -f \"$1/name\"", folder)
      #expect(remove.error.contains("Operation not permitted"))
      let chmod = try await Shell.run("chmod 666 \"$1/name\"", folder)
      #expect(chmod.error.contains("Operation not permitted"))
      let missing = try await Shell.run("/bin/cat \"$1/nothing\"", folder)
      #expect(missing.error.contains("No such file or directory"))
      #expect(try tree.contents(of: "remoteproc0") == ["crash", "name", "state"])
    }
  }

  @Test func theTreeChangesWhileMounted() async throws {
    let tree = SysfsTree()
    try tree.addDirectory("rpmsg")
    try await withMount(tree) { root in
      #expect(try await Shell.run("ls \"$1/rpmsg\"", root).output == "")
      try tree.addDirectory("rpmsg/virtio0.rpmsg-raw.1024.1")
      try tree.addFile("rpmsg/virtio0.rpmsg-raw.1024.1/src", .constant("0x400\n"))
      #expect(try await Shell.run("ls \"$1/rpmsg\"", root).output == "virtio0.rpmsg-raw.1024.1\n")
      #expect(try await Shell.run("/bin/cat \"$1\"/rpmsg/*/src", root).output == "0x400\n")
      try tree.remove("rpmsg/virtio0.rpmsg-raw.1024.1")
      #expect(try await Shell.run("ls \"$1/rpmsg\"", root).output == "")
      let gone = try await Shell.run("/bin/cat \"$1/rpmsg/virtio0.rpmsg-raw.1024.1/src\"", root)
      #expect(gone.error.contains("No such file or directory"))
      try tree.addDirectory("devcoredump/devcd1")
      try tree.addFile("devcoredump/devcd1/data", SysfsFile(showBytes: { [0x7F, 0x45, 0x4C, 0x46] }, storeBytes: nil))
      #expect(try await Shell.run("od -An -tx1 \"$1/devcoredump/devcd1/data\"", root).output == " 7f 45 4c 46\n")
    }
  }

  @Test func anOpenFileWhoseAttributeWasRemovedReadsENODEV() async throws {
    let tree = SysfsTree()
    try tree.addFile("victim", .constant("here\n"))
    try tree.addFile("remove-victim", SysfsFile(store: { _ throws(SysfsFilesystemError) in
      do throws(SysfsFilesystemError) { try tree.remove("victim") } catch { throw .refused(ENOENT, error.message) }
    }))
    try await withMount(tree) { root in
      let result = try await Shell.run(
        "cd \"$1\" && exec 3< victim && /bin/echo go > remove-victim && /bin/cat <&3", root)
      #expect(result.status != 0)
      #expect(result.error.contains("No such device"))
    }
  }

  @Test func aReadInPiecesSeesOneShowOfTheContent() async throws {
    let shows = Locked(0)
    let tree = SysfsTree()
    try tree.addFile("trace0", SysfsFile(show: { [shows] in
      let count = shows.withLock { count in
        count += 1
        return count
      }
      return String(repeating: "line \(count)\n", count: 2000)
    }))
    try await withMount(tree) { root in
      let result = try await Shell.run("dd if=\"$1/trace0\" bs=1000 status=none | sort -u", root)
      #expect(result.output == "line 1\n")
      #expect(shows.value == 1)
      let size = try await Shell.run("/bin/cat \"$1/trace0\" | wc -c", root)
      #expect(size.output.trimmingCharacters(in: .whitespacesAndNewlines) == "14000")
    }
  }

  @Test func aSlowShowDoesNotHoldUpOtherUsers() async throws {
    let gate = Gate()
    let (entered, signal) = AsyncStream.makeStream(of: Void.self)
    let tree = SysfsTree()
    try tree.addFile("slow", SysfsFile(show: {
      signal.yield()
      _ = await gate.waitUnlessCancelled()
      return "finally\n"
    }))
    try tree.addFile("fast", .constant("at once\n"))
    try await withMount(tree) { root in
      let slow = try Shell("/bin/cat \"$1/slow\"", arguments: [root])
      var events = entered.makeAsyncIterator()
      _ = await events.next()
      #expect(try await Shell.run("/bin/cat \"$1/fast\"", root).output == "at once\n")
      #expect(try await Shell.run("ls \"$1\"", root).output == "fast\nslow\n")
      gate.open()
      #expect(await slow.result().output == "finally\n")
    }
  }

  @Test func aClientKilledMidWriteIsInterruptedAndTheServerGoesOn() async throws {
    let (events, signal) = AsyncStream.makeStream(of: String.self)
    let gate = Gate()
    let tree = SysfsTree()
    try tree.addFile("firmware", SysfsFile(store: { _ throws(SysfsFilesystemError) in
      signal.yield("entered")
      if await gate.waitUnlessCancelled() {
        signal.yield("cancelled")
        throw .refused(EINTR, "interrupted")
      }
    }))
    try tree.addFile("name", .constant("mips-vpe\n"))
    try await withMount(tree) { root in
      let writer = try Shell("exec /bin/echo new.elf > \"$1/firmware\"", arguments: [root])
      var iterator = events.makeAsyncIterator()
      #expect(await iterator.next() == "entered")
      kill(writer.process.processIdentifier, SIGKILL)
      #expect(await iterator.next() == "cancelled")
      let result = await writer.result()
      #expect(result.status == SIGKILL)
      #expect(try await Shell.run("/bin/cat \"$1/name\"", root).output == "mips-vpe\n")
    }
  }

  @Test func manyUsersAtOnceAllGetTheirAnswers() async throws {
    let tree = SysfsTree()
    let reads = Locked(0)
    let writes = Locked(0)
    try tree.addFile("count", SysfsFile(show: { [reads] in
      await Task.yield()
      return "\(reads.withLock { count in count += 1; return count })\n"
    }))
    try tree.addFile("sink", SysfsFile(store: { [writes] _ in writes.withLock { $0 += 1 } }))
    try await withMount(tree) { root in
      // 24 users at once, each reading one file and writing another.
      let results = try await withThrowingTaskGroup(of: ShellResult.self) { group in
        for _ in 0..<24 {
          group.addTask { try await Shell.run("cd \"$1\" && /bin/cat count && /bin/echo x > sink", root) }
        }
        return try await group.reduce(into: []) { $0.append($1) }
      }
      #expect(results.allSatisfy { $0.status == 0 && $0.error.isEmpty })
      #expect(Set(results.compactMap { Int($0.output.dropLast()) }) == Set(1...24))
      #expect(writes.value == 24)
    }
  }

  @Test func aLargeDirectoryIsListedAcrossSeveralReads() async throws {
    let tree = SysfsTree()
    let names = (0..<400).map { "channel-\(String(repeating: "x", count: 40))-\($0)" }
    for name in names { try tree.addDirectory("rpmsg/" + name) }
    try await withMount(tree) { root in
      let listing = try await Shell.run("ls -a \"$1/rpmsg\"", root)
      #expect(listing.output.split(separator: "\n").map(String.init) == [".", ".."] + names.sorted())
      let statistics = try await Shell.run("stat -f -c '%T %l' \"$1\"", root)
      #expect(statistics.output == "fuseblk 255\n" || statistics.output == "fuse 255\n")
    }
  }

  @Test func unmountingLeavesNothingMountedAndTheTreeCanBeServedAgain() async throws {
    let (tree, _) = try Self.processorTree()
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sysfs-test-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: false)
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let filesystem = try SysfsFilesystem.mount(tree, at: directory)
    #expect(isMounted(directory))
    #expect { try SysfsFilesystem.mount(tree, at: directory) } throws: { error in
      (error as? SysfsFilesystemError)?.code == .busy
    }
    #expect(try await Shell.run("/bin/cat \"$1/remoteproc0/name\"", directory).output == "mips-vpe\n")
    await filesystem.unmount()
    await filesystem.unmount()
    #expect(!isMounted(directory))
    #expect(try FileManager.default.contentsOfDirectory(atPath: directory) == [])
    try await withMount(tree) { root in
      let name = try await Shell.run("/bin/cat \"$1/remoteproc0/name\"", root)
      #expect(name.output == "mips-vpe\n")
    }
  }

  @Test func mountingOnAMissingDirectoryFailsWithTheErrno() {
    #expect { try SysfsFilesystem.mount(SysfsTree(), at: "/nonexistent/sysfs-test") } throws: { error in
      let error = error as? SysfsFilesystemError
      return error?.code == .systemCall && error?.errno == ENOENT
    }
  }
}
