import CSharedMemoryShims
import Glibc

/// Memory mapped into this process that may be shared with a remote processor: anonymous
/// memory, a `memfd` another process can map too, or an existing file such as OpenAMP's
/// `/dev/shm/openamp.shm`.
///
/// The mapping is unmapped exactly once, when the last reference to it (including every
/// ``MemoryRegion`` viewing it) goes away. A `memfd` or file descriptor it owns is closed
/// then too.
@safe
public final class SharedMapping: @unchecked Sendable {
  // Invariants: `base` is the start of a live `mmap` of `count` bytes until deinit, which
  // is the only place that unmaps it; `fileDescriptor`, when owned, is closed only there.
  // All fields are immutable, so sharing the object between threads is safe.
  private let base: UnsafeMutableRawPointer
  /// Bytes mapped.
  public let count: Int
  /// The descriptor backing the mapping (memfd or file), if any.
  public let fileDescriptor: Int32?
  private let ownsDescriptor: Bool

  private init(base: UnsafeMutableRawPointer, count: Int, fileDescriptor: Int32?, owns: Bool) {
    unsafe self.base = base
    self.count = count
    self.fileDescriptor = fileDescriptor
    self.ownsDescriptor = owns
  }

  deinit {
    unsafe _ = munmap(base, count)
    if ownsDescriptor, let fileDescriptor { _ = close(fileDescriptor) }
  }

  /// A view of the whole mapping.
  public var region: MemoryRegion {
    unsafe MemoryRegion(base: base, count: count, owner: self)
  }

  /// The system's page size.
  public static var pageSize: Int { Int(sysconf(Int32(_SC_PAGESIZE))) }

  private static func validate(_ count: Int, _ what: String) throws(SharedMemoryError) {
    guard count > 0, count <= 1 << 40 else {
      throw SharedMemoryError(.invalidArgument, "\(what): size \(count) must be in 1...2^40")
    }
  }

  private static func map(
    _ count: Int, fd: Int32, flags: Int32, offset: Int = 0
  ) throws(SharedMemoryError) -> UnsafeMutableRawPointer {
    let address = unsafe mmap(nil, count, PROT_READ | PROT_WRITE, flags, fd, off_t(offset))
    guard let address = unsafe address, unsafe address != MAP_FAILED else {
      throw SharedMemoryError(.systemCall, "mmap of \(count) bytes", errno: errno)
    }
    return unsafe address
  }

  /// Zero-filled memory private to this process's threads (`mmap(MAP_ANONYMOUS|MAP_SHARED)`).
  public static func anonymous(count: Int) throws(SharedMemoryError) -> SharedMapping {
    try validate(count, "anonymous mapping")
    let base = try unsafe map(count, fd: -1, flags: MAP_SHARED | MAP_ANONYMOUS)
    return unsafe SharedMapping(base: base, count: count, fileDescriptor: nil, owns: false)
  }

  /// Zero-filled memory backed by a new `memfd`, which a child process can map too.
  /// - Parameter closeOnExec: false lets a child started with `exec` inherit the descriptor.
  public static func memfd(
    name: String, count: Int, closeOnExec: Bool = true
  ) throws(SharedMemoryError) -> SharedMapping {
    try validate(count, "memfd \(name)")
    guard !name.isEmpty, name.utf8.count < 250, !name.utf8.contains(0) else {
      throw SharedMemoryError(.invalidArgument, "memfd name must be 1...249 bytes without NUL")
    }
    let fd = unsafe rproc_memfd_create(name, closeOnExec ? 1 : 0)
    guard fd >= 0 else {
      throw SharedMemoryError(.systemCall, "memfd_create(\(name))", errno: -fd)
    }
    guard ftruncate(fd, off_t(count)) == 0 else {
      let error = errno
      _ = close(fd)
      throw SharedMemoryError(.systemCall, "ftruncate(memfd \(name), \(count))", errno: error)
    }
    do {
      let base = try unsafe map(count, fd: fd, flags: MAP_SHARED)
      return unsafe SharedMapping(base: base, count: count, fileDescriptor: fd, owns: true)
    } catch {
      _ = close(fd)
      throw error
    }
  }

  /// Maps `count` bytes of an open file or memfd, shared (`MAP_SHARED`).
  /// - Parameter takingOwnership: close `fileDescriptor` when the mapping goes away.
  public static func file(
    descriptor: Int32, count: Int, offset: Int = 0, takingOwnership: Bool
  ) throws(SharedMemoryError) -> SharedMapping {
    try validate(count, "file mapping")
    guard offset >= 0, offset % pageSize == 0 else {
      throw SharedMemoryError(.invalidArgument, "mapping offset \(offset) is not page aligned")
    }
    var status = stat()
    guard unsafe fstat(descriptor, &status) == 0 else {
      throw SharedMemoryError(.systemCall, "fstat(\(descriptor))", errno: errno)
    }
    guard Int(status.st_size) >= offset + count else {
      throw SharedMemoryError(
        .invalidArgument,
        "file of \(status.st_size) bytes is too small to map 0x\(String(count, radix: 16)) bytes at offset \(offset)")
    }
    let base = try unsafe map(count, fd: descriptor, flags: MAP_SHARED, offset: offset)
    return unsafe SharedMapping(
      base: base, count: count, fileDescriptor: descriptor, owns: takingOwnership)
  }

  /// Opens and maps a file by path (for example a POSIX shared-memory file in `/dev/shm`),
  /// optionally creating it with `count` bytes.
  public static func file(
    path: String, count: Int, create: Bool = false
  ) throws(SharedMemoryError) -> SharedMapping {
    try validate(count, "file \(path)")
    let flags = O_RDWR | O_CLOEXEC | (create ? O_CREAT : 0)
    let fd = unsafe open(path, flags, 0o600)
    guard fd >= 0 else {
      throw SharedMemoryError(.systemCall, "open(\(path))", errno: errno)
    }
    if create {
      var status = stat()
      if unsafe fstat(fd, &status) == 0, Int(status.st_size) < count,
        ftruncate(fd, off_t(count)) != 0
      {
        let error = errno
        _ = close(fd)
        throw SharedMemoryError(.systemCall, "ftruncate(\(path), \(count))", errno: error)
      }
    }
    do {
      return try file(descriptor: fd, count: count, takingOwnership: true)
    } catch {
      _ = close(fd)
      throw error
    }
  }
}
