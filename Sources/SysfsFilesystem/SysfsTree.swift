import Synchronization

/// The directories and files a ``SysfsFilesystem`` shows, which may change while mounted
/// (channel directories appear and disappear, `devcoredump` files come and go).
///
/// Paths are relative to the mount point and slash-separated (`remoteproc0/state`).
/// Every method is safe to call from any thread, mounted or not; a change is visible to
/// the next `ls` or `open` (the kernel is told not to cache names or attributes).
///
/// ```swift
/// let tree = SysfsTree()
/// try tree.addDirectory("remoteproc0")
/// try tree.addFile("remoteproc0/state", SysfsFile(
///   show: { await processor.read(.state) },
///   store: { text throws(SysfsFilesystemError) in try await write(text) }))
/// ```
public final class SysfsTree: Sendable {
  let table: Mutex<NodeTable>
  let isServed = Atomic<Bool>(false)

  /// An empty tree whose root directory has permissions `rootMode`.
  public init(rootMode: UInt16 = 0o755) {
    table = Mutex(NodeTable(rootMode: rootMode))
  }

  /// Adds a directory, and any missing directories above it (like `mkdir -p`).
  /// Throws ``SysfsFilesystemError/Code/exists`` if a file is in the way, or if the
  /// directory itself exists and `existingIsError` is true.
  public func addDirectory(
    _ path: String, mode: UInt16 = 0o755, existingIsError: Bool = false
  ) throws(SysfsFilesystemError) {
    let names = try NodeTable.components(path)
    guard !names.isEmpty else { throw SysfsFilesystemError(.exists, "the root exists") }
    try table.withLock { table throws(SysfsFilesystemError) in
      var id = NodeTable.rootID
      for (index, name) in names.enumerated() {
        let here = names[...index].joined(separator: "/")
        if let child = table[id]!.children[name] {
          guard table[child]!.isDirectory else {
            throw SysfsFilesystemError(.exists, "\(path): \(here) is a file")
          }
          if index == names.count - 1, existingIsError {
            throw SysfsFilesystemError(.exists, "\(path) exists")
          }
          id = child
        } else {
          id = try table.add(name, in: id, mode: mode, file: nil, path: here)
        }
      }
    }
  }

  /// Adds a file; its directory must exist.
  public func addFile(_ path: String, _ file: SysfsFile) throws(SysfsFilesystemError) {
    let names = try NodeTable.components(path)
    guard let name = names.last else { throw SysfsFilesystemError(.exists, "the root is a directory") }
    try table.withLock { table throws(SysfsFilesystemError) in
      let parent = try table.resolve(Array(names.dropLast()), path: path)
      _ = try table.add(name, in: parent, mode: file.mode, file: file, path: path)
    }
  }

  /// Removes a file, or a directory with everything in it. Users who have it open get
  /// `ENODEV` from further reads and writes, as with a removed sysfs attribute.
  public func remove(_ path: String) throws(SysfsFilesystemError) {
    let names = try NodeTable.components(path)
    guard !names.isEmpty else { throw SysfsFilesystemError(.invalidPath, "the root cannot be removed") }
    try table.withLock { table throws(SysfsFilesystemError) in
      table.remove(try table.resolve(names, path: path))
    }
  }

  /// Whether something exists at `path`.
  public func contains(_ path: String) -> Bool {
    guard let names = try? NodeTable.components(path) else { return false }
    return table.withLock { table in (try? table.resolve(names, path: path)) != nil }
  }

  /// The names in directory `path`, sorted.
  public func contents(of path: String) throws(SysfsFilesystemError) -> [String] {
    let names = try NodeTable.components(path)
    return try table.withLock { table throws(SysfsFilesystemError) -> [String] in
      let node = table[try table.resolve(names, path: path)]!
      guard node.isDirectory else { throw SysfsFilesystemError(.notDirectory, "\(path) is a file") }
      return node.children.keys.sorted()
    }
  }
}
