import Glibc

/// One handler per FUSE opcode. Linux's own errors are used for operations a sysfs
/// directory refuses (creating a file: `EACCES`; mkdir, unlink, rename: `EPERM`);
/// everything else unknown gets `ENOSYS`.
extension SysfsFilesystem {
  func handle(_ bytes: [UInt8]) {
    guard let request = FUSERequest(bytes) else { return }
    guard let opcode = FUSE.Opcode(rawValue: request.opcode) else {
      return reply(request, error: ENOSYS)
    }
    switch opcode {
    case .initialize: initialize(request)
    case .lookup: lookUp(request)
    case .forget:
      if let count = request.fields.u64(at: 0) { tree.table.withLock { $0.forget(request.nodeID, count: count) } }
    case .batchForget: batchForget(request)
    case .getattr: replyAttributes(request)
    case .setattr: setAttributes(request)
    case .open: open(request)
    case .read: read(request)
    case .write: write(request)
    case .release:
      if let handle = request.fields.u64(at: 0) { state.withLock { _ = $0.files.removeValue(forKey: handle) } }
      reply(request)
    case .flush, .destroy: reply(request)
    case .opendir: openDirectory(request)
    case .readdir: readDirectory(request)
    case .releasedir:
      if let handle = request.fields.u64(at: 0) { state.withLock { _ = $0.directories.removeValue(forKey: handle) } }
      reply(request)
    case .statfs: reply(request, body: Self.statistics())
    case .access:
      let exists = tree.table.withLock { $0.attached(request.nodeID) != nil }
      reply(request, error: exists ? 0 : ENOENT)
    case .interrupt:
      if let unique = request.fields.u64(at: 0) { state.withLock { $0.inFlight[unique]?.cancel() } }
    case .create, .mknod, .tmpfile: reply(request, error: EACCES)
    case .mkdir, .unlink, .rmdir, .rename, .rename2, .link, .symlink: reply(request, error: EPERM)
    case .readlink, .fsync: reply(request, error: ENOSYS)
    }
  }

  // MARK: Replies

  func reply(_ request: FUSERequest, error: Int32 = 0, body: [UInt8] = []) {
    send(FUSEReply.message(unique: request.unique, error: error, body: error == 0 ? body : []))
  }

  /// Runs `work` in a task that INTERRUPT can cancel, and sends what it returns.
  private func spawn(
    _ request: FUSERequest, _ work: @escaping @Sendable () async -> (error: Int32, body: [UInt8])
  ) {
    let unique = request.unique
    state.withLock { state in
      state.inFlight[unique] = Task {
        let (error, body) = await work()
        self.state.withLock { _ = $0.inFlight.removeValue(forKey: unique) }
        self.send(FUSEReply.message(unique: unique, error: error, body: error == 0 ? body : []))
      }
    }
  }

  // MARK: Session

  private func initialize(_ request: FUSERequest) {
    let fields = request.fields
    guard let major = fields.u32(at: 0), let minor = fields.u32(at: 4),
      let readahead = fields.u32(at: 8), let flags = fields.u32(at: 12)
    else { return reply(request, error: EIO) }
    guard major >= FUSE.kernelMajor else { return reply(request, error: EPROTO) }
    var out = FUSEReply()
    out.append(FUSE.kernelMajor)
    out.append(major > FUSE.kernelMajor ? FUSE.maximumMinor : min(minor, FUSE.maximumMinor))
    out.append(readahead)
    out.append(flags & FUSE.wantedFlags)
    out.append(UInt16(16))  // max_background
    out.append(UInt16(12))  // congestion_threshold
    out.append(UInt32(FUSE.maximumWrite))
    out.append(UInt32(1))  // time_gran: nanoseconds
    out.append(UInt16(0))  // max_pages
    out.append(UInt16(0))  // map_alignment
    out.append(UInt32(0))  // flags2
    out.append([UInt8](repeating: 0, count: 28))  // unused[7]
    reply(request, body: out.bytes)
  }

  // MARK: Names and attributes

  private func lookUp(_ request: FUSERequest) {
    guard let name = request.name() else { return reply(request, error: EIO) }
    let entry = tree.table.withLock { table -> [UInt8]? in
      guard let id = table.lookUp(name, in: request.nodeID) else { return nil }
      var out = FUSEReply()
      out.append(id)  // nodeid
      out.append(UInt64(0))  // generation: ids are never reused
      out.append(UInt64(0))  // entry_valid: the tree changes, so never cache names
      out.append(UInt64(0))  // attr_valid
      out.append(UInt32(0))
      out.append(UInt32(0))
      out.append(attributes(id, table[id]!))
      return out.bytes
    }
    guard let entry else { return reply(request, error: ENOENT) }
    reply(request, body: entry)
  }

  private func batchForget(_ request: FUSERequest) {
    let fields = request.fields
    guard let count = fields.u32(at: 0) else { return }
    tree.table.withLock { table in
      for index in 0..<Int(count) {
        guard let id = fields.u64(at: 8 + 16 * index), let lookups = fields.u64(at: 16 + 16 * index) else { return }
        table.forget(id, count: lookups)
      }
    }
  }

  private func replyAttributes(_ request: FUSERequest) {
    // A removed node the kernel still holds (an open file) keeps its attributes, as a
    // removed sysfs attribute's inode does; its reads and writes fail with ENODEV.
    let body = tree.table.withLock { table -> [UInt8]? in
      table[request.nodeID].map { attributesReply(request.nodeID, $0) }
    }
    guard let body else { return reply(request, error: ENOENT) }
    reply(request, body: body)
  }

  /// Truncation (a shell's `>` opens with `O_TRUNC`) and time changes are accepted and do
  /// nothing, as on sysfs; changing the mode or owner is refused with `EPERM`.
  private func setAttributes(_ request: FUSERequest) {
    guard let valid = request.fields.u32(at: 0) else { return reply(request, error: EIO) }
    let result = tree.table.withLock { table -> (Int32, [UInt8]) in
      guard let node = table[request.nodeID] else { return (ENOENT, []) }
      if valid & (FUSE.setMode | FUSE.setOwner | FUSE.setGroup) != 0 { return (EPERM, []) }
      if valid & FUSE.setSize != 0, node.isDirectory { return (EISDIR, []) }
      return (0, attributesReply(request.nodeID, node))
    }
    reply(request, error: result.0, body: result.1)
  }

  /// `struct fuse_attr_out`: no caching, then the attributes.
  private func attributesReply(_ id: UInt64, _ node: NodeTable.Node) -> [UInt8] {
    var out = FUSEReply()
    out.append(UInt64(0))  // attr_valid
    out.append(UInt32(0))  // attr_valid_nsec
    out.append(UInt32(0))  // dummy
    out.append(attributes(id, node))
    return out.bytes
  }

  /// `struct fuse_attr`.
  private func attributes(_ id: UInt64, _ node: NodeTable.Node) -> [UInt8] {
    var out = FUSEReply()
    out.append(id)  // ino
    out.append(node.isDirectory ? UInt64(0) : FUSE.fileSize)  // size
    out.append(UInt64(0))  // blocks
    for _ in 0..<3 { out.append(node.created.seconds) }  // atime, mtime, ctime
    for _ in 0..<3 { out.append(node.created.nanoseconds) }
    out.append((node.isDirectory ? FUSE.directoryType : FUSE.regularType) | UInt32(node.mode & 0o7777))
    out.append(UInt32(node.isDirectory ? 2 : 1))  // nlink
    out.append(owner.uid)
    out.append(owner.gid)
    out.append(UInt32(0))  // rdev
    out.append(UInt32(4096))  // blksize
    out.append(UInt32(0))  // flags
    return out.bytes
  }

  /// `struct fuse_kstatfs`: an empty file system, like sysfs.
  private static func statistics() -> [UInt8] {
    var out = FUSEReply()
    for _ in 0..<5 { out.append(UInt64(0)) }  // blocks, bfree, bavail, files, ffree
    out.append(UInt32(4096))  // bsize
    out.append(UInt32(NodeTable.maximumNameLength))  // namelen
    out.append(UInt32(4096))  // frsize
    out.append([UInt8](repeating: 0, count: 28))  // padding, spare[6]
    return out.bytes
  }

  // MARK: Files

  /// Linux `kernfs_fop_open`: reading needs a read bit and a show, writing a write bit and
  /// a store, whoever asks.
  private func open(_ request: FUSERequest) {
    guard let flags = request.fields.u32(at: 0) else { return reply(request, error: EIO) }
    let access = Int32(flags) & O_ACCMODE
    let opened = tree.table.withLock { table -> (Int32, SysfsFile?) in
      guard let node = table.attached(request.nodeID) else { return (ENOENT, nil) }
      guard let file = node.file else { return (EISDIR, nil) }
      let reads = access == O_RDONLY || access == O_RDWR
      let writes = access == O_WRONLY || access == O_RDWR
      if reads, node.mode & 0o444 == 0 || file.show == nil { return (EACCES, nil) }
      if writes, node.mode & 0o222 == 0 || file.store == nil { return (EACCES, nil) }
      return (0, file)
    }
    guard let file = opened.1 else { return reply(request, error: opened.0) }
    let handle = state.withLock { state in
      let handle = state.newHandle()
      state.files[handle] = ServerState.OpenFile(node: request.nodeID, file: file)
      return handle
    }
    var out = FUSEReply()
    out.append(handle)
    out.append(FUSE.directIO)
    out.append(UInt32(0))
    reply(request, body: out.bytes)
  }

  /// The open file `handle`, if its node is still in the tree (else `ENODEV`, as a read of
  /// a removed sysfs attribute gets).
  private func openFile(_ handle: UInt64) -> (error: Int32, file: ServerState.OpenFile?) {
    guard let open = state.withLock({ $0.files[handle] }) else { return (EBADF, nil) }
    guard tree.table.withLock({ $0.attached(open.node) }) != nil else { return (ENODEV, nil) }
    return (0, open)
  }

  private func read(_ request: FUSERequest) {
    let fields = request.fields
    guard let handle = fields.u64(at: 0), let offset = fields.u64(at: 8), let size = fields.u32(at: 16)
    else { return reply(request, error: EIO) }
    let (error, open) = openFile(handle)
    guard let open, let show = open.file.show else { return reply(request, error: error == 0 ? EBADF : error) }
    if offset > 0, let content = open.content {
      return reply(request, body: Self.slice(content, offset, size))
    }
    spawn(request) { [self] in
      do throws(SysfsFilesystemError) {
        let content = try await show()
        state.withLock { $0.files[handle]?.content = content }
        return (0, Self.slice(content, offset, size))
      } catch {
        return (error.errno ?? EIO, [])
      }
    }
  }

  private static func slice(_ content: [UInt8], _ offset: UInt64, _ size: UInt32) -> [UInt8] {
    guard offset < UInt64(content.count) else { return [] }
    let start = Int(offset)
    return Array(content[start..<min(content.count, start + Int(size))])
  }

  private func write(_ request: FUSERequest) {
    let fields = request.fields
    let dataStart = 40  // after struct fuse_write_in
    guard let handle = fields.u64(at: 0), let size = fields.u32(at: 16),
      Int(size) <= request.body.count - dataStart
    else { return reply(request, error: EIO) }
    let (error, open) = openFile(handle)
    guard let open, let store = open.file.store else { return reply(request, error: error == 0 ? EBADF : error) }
    let data = Array(request.body[dataStart..<dataStart + Int(size)])
    spawn(request) {
      do throws(SysfsFilesystemError) {
        try await store(data)
        var out = FUSEReply()
        out.append(size)
        out.append(UInt32(0))
        return (0, out.bytes)
      } catch {
        return (error.errno ?? EIO, [])
      }
    }
  }

  // MARK: Directories

  /// Takes a snapshot of the directory, so a listing read in pieces is consistent even if
  /// the tree changes meanwhile.
  private func openDirectory(_ request: FUSERequest) {
    let entries = tree.table.withLock { table -> [ServerState.DirectoryEntry]? in
      guard let node = table.attached(request.nodeID), node.isDirectory else { return nil }
      var entries = [
        ServerState.DirectoryEntry(name: ".", node: request.nodeID, isDirectory: true),
        ServerState.DirectoryEntry(name: "..", node: node.parent, isDirectory: true),
      ]
      for (name, id) in node.children.sorted(by: { $0.key < $1.key }) {
        entries.append(ServerState.DirectoryEntry(name: name, node: id, isDirectory: table[id]!.isDirectory))
      }
      return entries
    }
    guard let entries else { return reply(request, error: ENOTDIR) }
    let handle = state.withLock { state in
      let handle = state.newHandle()
      state.directories[handle] = entries
      return handle
    }
    var out = FUSEReply()
    out.append(handle)
    out.append(UInt32(0))
    out.append(UInt32(0))
    reply(request, body: out.bytes)
  }

  /// `struct fuse_dirent` records from the entry at `offset`, as many as fit in `size`.
  private func readDirectory(_ request: FUSERequest) {
    let fields = request.fields
    guard let handle = fields.u64(at: 0), let offset = fields.u64(at: 8), let size = fields.u32(at: 16)
    else { return reply(request, error: EIO) }
    guard let entries = state.withLock({ $0.directories[handle] }) else { return reply(request, error: EBADF) }
    var out = FUSEReply()
    var index = Int(min(offset, UInt64(entries.count)))
    while index < entries.count {
      let entry = entries[index]
      let name = Array(entry.name.utf8)
      var record = FUSEReply()
      record.append(entry.node)  // ino
      record.append(UInt64(index + 1))  // off: where the next read starts
      record.append(UInt32(name.count))
      record.append(entry.isDirectory ? FUSE.direntDirectory : FUSE.direntRegular)
      record.append(name)
      record.pad(to: 8)
      guard out.bytes.count + record.bytes.count <= Int(size) else { break }
      out.append(record.bytes)
      index += 1
    }
    reply(request, body: out.bytes)
  }
}
