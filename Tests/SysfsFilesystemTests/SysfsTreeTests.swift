import Testing

@testable import SysfsFilesystem

@Suite struct SysfsTreeTests {
  @Test func directoriesAreCreatedWithTheirParents() throws {
    let tree = SysfsTree()
    try tree.addDirectory("rpmsg/virtio0.rpmsg-raw.1024.1")
    try tree.addDirectory("rpmsg")  // exists: fine unless asked otherwise
    #expect(throws: SysfsFilesystemError.self) { try tree.addDirectory("rpmsg", existingIsError: true) }
    #expect(try tree.contents(of: "") == ["rpmsg"])
    #expect(try tree.contents(of: "/rpmsg/") == ["virtio0.rpmsg-raw.1024.1"])
  }

  @Test func filesNeedAnExistingDirectoryAndAFreeName() throws {
    let tree = SysfsTree()
    #expect { try tree.addFile("remoteproc0/state", .constant("offline\n")) } throws: { error in
      (error as? SysfsFilesystemError)?.code == .notFound
    }
    try tree.addDirectory("remoteproc0")
    try tree.addFile("remoteproc0/state", .constant("offline\n"))
    #expect { try tree.addFile("remoteproc0/state", .constant("x")) } throws: { error in
      (error as? SysfsFilesystemError)?.code == .exists
    }
    #expect { try tree.addFile("remoteproc0/state/deeper", .constant("x")) } throws: { error in
      (error as? SysfsFilesystemError)?.code == .notDirectory
    }
    #expect(tree.contains("remoteproc0/state"))
  }

  @Test(arguments: ["..", "a/../b", ".", "a/./b", "nul\0byte", String(repeating: "n", count: 256)])
  func unusableNamesAreRefused(path: String) {
    let tree = SysfsTree()
    #expect { try tree.addDirectory(path) } throws: { error in
      (error as? SysfsFilesystemError)?.code == .invalidPath
    }
  }

  @Test func removingADirectoryRemovesItsContents() throws {
    let tree = SysfsTree()
    try tree.addDirectory("rpmsg/channel")
    try tree.addFile("rpmsg/channel/name", .constant("rpmsg-raw\n"))
    try tree.remove("rpmsg")
    #expect(!tree.contains("rpmsg/channel/name"))
    #expect(try tree.contents(of: "") == [])
    #expect(throws: SysfsFilesystemError.self) { try tree.remove("rpmsg") }
    #expect(throws: SysfsFilesystemError.self) { try tree.remove("") }
    // Nothing the kernel never looked up is kept.
    #expect(tree.table.withLock { $0.nodes.count } == 1)
  }

  @Test func removedNodesTheKernelHoldsAreKeptUntilForgotten() throws {
    let tree = SysfsTree()
    try tree.addDirectory("rpmsg")
    let id = try #require(tree.table.withLock { $0.lookUp("rpmsg", in: NodeTable.rootID) })
    try tree.remove("rpmsg")
    #expect(tree.table.withLock { $0[id]?.attached } == false)
    tree.table.withLock { $0.forget(id, count: 1) }
    #expect(tree.table.withLock { $0[id] } == nil)
  }

  @Test func defaultModesFollowLinux() {
    #expect(SysfsFile(show: { "x" }, store: { _ in }).mode == 0o644)
    #expect(SysfsFile(show: { "x" }).mode == 0o444)
    #expect(SysfsFile(store: { _ in }).mode == 0o200)
    #expect(SysfsFile(mode: 0o600, show: { "x" }).mode == 0o600)
  }
}
