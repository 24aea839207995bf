import Foundation

/// The nodes of a ``SysfsTree`` by FUSE node id, with the kernel's lookup counts.
///
/// Ids are never reused, so a kernel that still holds a removed node's id gets `ENOENT`
/// rather than someone else's file. A removed node is kept, detached, until the kernel
/// forgets it (FORGET brings its lookup count to 0), then dropped.
struct NodeTable {
  struct Node {
    var name: String
    var parent: UInt64
    /// Permission bits.
    var mode: UInt16
    /// nil for a directory.
    var file: SysfsFile?
    var children: [String: UInt64] = [:]
    /// FUSE lookups the kernel holds. Linux: `nlookup` of `fuse_forget_in`.
    var lookups: UInt64 = 0
    /// False once removed from the tree.
    var attached = true
    /// When the node was created: its atime, mtime and ctime.
    var created: (seconds: UInt64, nanoseconds: UInt32)

    var isDirectory: Bool { file == nil }
  }

  static let rootID: UInt64 = 1
  static let maximumNameLength = 255

  private(set) var nodes: [UInt64: Node]
  private var nextID: UInt64 = 2

  init(rootMode: UInt16) {
    nodes = [Self.rootID: Node(name: "", parent: Self.rootID, mode: rootMode, created: Self.now())]
  }

  static func now() -> (seconds: UInt64, nanoseconds: UInt32) {
    let time = max(Date().timeIntervalSince1970, 0)
    let seconds = time.rounded(.down)
    return (UInt64(seconds), UInt32(min((time - seconds) * 1e9, 999_999_999)))
  }

  subscript(id: UInt64) -> Node? { nodes[id] }

  /// The attached node `id`, or nil.
  func attached(_ id: UInt64) -> Node? {
    guard let node = nodes[id], node.attached else { return nil }
    return node
  }

  /// Splits a slash-separated path relative to the root, checking every name.
  static func components(_ path: String) throws(SysfsFilesystemError) -> [String] {
    let names = path.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
    for name in names {
      guard name != ".", name != "..", !name.utf8.contains(0),
        name.utf8.count <= maximumNameLength
      else {
        throw SysfsFilesystemError(
          .invalidPath, "\(path): the name \(name.debugDescription) is not allowed (., .., NUL or over 255 bytes)")
      }
    }
    return names
  }

  /// The id at `names`, or a reason why there is none.
  func resolve(_ names: [String], path: String) throws(SysfsFilesystemError) -> UInt64 {
    var id = Self.rootID
    for (index, name) in names.enumerated() {
      let node = nodes[id]!
      guard node.isDirectory else {
        throw SysfsFilesystemError(
          .notDirectory, "\(path): \(names[..<index].joined(separator: "/")) is a file")
      }
      guard let child = node.children[name] else {
        throw SysfsFilesystemError(.notFound, "\(path): no \(names[...index].joined(separator: "/"))")
      }
      id = child
    }
    return id
  }

  /// Adds a node named `name` in directory `parent`.
  mutating func add(
    _ name: String, in parent: UInt64, mode: UInt16, file: SysfsFile?, path: String
  ) throws(SysfsFilesystemError) -> UInt64 {
    guard nodes[parent]!.isDirectory else {
      throw SysfsFilesystemError(.notDirectory, "\(path): the parent is a file")
    }
    guard nodes[parent]!.children[name] == nil else {
      throw SysfsFilesystemError(.exists, "\(path) exists")
    }
    let id = nextID
    nextID += 1
    nodes[id] = Node(name: name, parent: parent, mode: mode, file: file, created: Self.now())
    nodes[parent]!.children[name] = id
    return id
  }

  /// Detaches `id` and everything under it; nodes the kernel does not hold are dropped.
  mutating func remove(_ id: UInt64) {
    guard id != Self.rootID, let node = nodes[id] else { return }
    if node.attached { nodes[node.parent]?.children[node.name] = nil }
    var pending = [id]
    while let next = pending.popLast() {
      guard var child = nodes[next] else { continue }
      pending += child.children.values
      child.children = [:]
      child.attached = false
      nodes[next] = child.lookups == 0 ? nil : child
    }
  }

  /// The child `name` of directory `parent`, counting one more kernel lookup of it.
  mutating func lookUp(_ name: String, in parent: UInt64) -> UInt64? {
    guard let directory = attached(parent), let id = directory.children[name] else { return nil }
    nodes[id]!.lookups += 1
    return id
  }

  /// The kernel dropped `count` lookups of `id`. Linux: FUSE_FORGET.
  mutating func forget(_ id: UInt64, count: UInt64) {
    guard id != Self.rootID, var node = nodes[id] else { return }
    node.lookups -= min(count, node.lookups)
    nodes[id] = node.lookups == 0 && !node.attached ? nil : node
  }

  /// Forgets every kernel lookup: the mount went away.
  mutating func forgetAll() {
    for id in Array(nodes.keys) {
      nodes[id]!.lookups = 0
      if !nodes[id]!.attached { nodes[id] = nil }
    }
  }
}
