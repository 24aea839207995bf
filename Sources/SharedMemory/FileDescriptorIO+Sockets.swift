import Glibc

/// The socket calls rprocd and its clients need that hand C an address or a buffer.
///
/// Audit notes: the `sockaddr_un` is built on the stack with its path copied in (checked
/// to fit with its NUL) and passed with its exact size; `send` passes an array's own
/// buffer and count. Nothing keeps a pointer after the call.
extension FileDescriptorIO {
  /// The longest path a UNIX socket address holds (`sun_path` less its NUL): 107 on Linux.
  public static let maximumSocketPathLength = 107

  /// Binds a UNIX-domain socket to `path`. Linux: `bind(2)` with a `sockaddr_un`.
  public static func bindUnixSocket(_ fd: Int32, path: String) throws(SharedMemoryError) {
    try unsafe withUnixAddress(path) { address, length throws(SharedMemoryError) in
      guard unsafe Glibc.bind(fd, address, length) == 0 else {
        throw SharedMemoryError(.systemCall, "bind(\(path))", errno: errno)
      }
    }
  }

  /// Connects a UNIX-domain socket to `path`. Linux: `connect(2)`; EINTR is retried.
  public static func connectUnixSocket(_ fd: Int32, path: String) throws(SharedMemoryError) {
    try unsafe withUnixAddress(path) { address, length throws(SharedMemoryError) in
      var result: Int32
      repeat { result = unsafe Glibc.connect(fd, address, length) } while result < 0 && errno == EINTR
      guard result == 0 else {
        throw SharedMemoryError(.systemCall, "connect(\(path))", errno: errno)
      }
    }
  }

  /// One `send(2)` with `MSG_NOSIGNAL` (a closed peer is `EPIPE`, not a signal); returns how
  /// many bytes went.
  @discardableResult
  public static func send(_ fd: Int32, _ bytes: ArraySlice<UInt8>) throws(SharedMemoryError) -> Int {
    var result: Int
    repeat {
      result = unsafe bytes.withUnsafeBytes { buffer in
        unsafe Glibc.send(fd, buffer.baseAddress, buffer.count, Int32(MSG_NOSIGNAL))
      }
    } while result < 0 && errno == EINTR
    guard result >= 0 else {
      throw SharedMemoryError(.systemCall, "send(fd \(fd), \(bytes.count) bytes)", errno: errno)
    }
    return result
  }

  private static func withUnixAddress(
    _ path: String, _ body: (UnsafePointer<sockaddr>, socklen_t) throws(SharedMemoryError) -> Void
  ) throws(SharedMemoryError) {
    let bytes = Array(path.utf8)
    guard !bytes.isEmpty, !bytes.contains(0), bytes.count <= maximumSocketPathLength else {
      throw SharedMemoryError(
        .invalidArgument,
        "socket path \(path) must be 1…\(maximumSocketPathLength) bytes without NUL (it has \(bytes.count))")
    }
    var address = sockaddr_un()
    address.sun_family = sa_family_t(AF_UNIX)
    unsafe withUnsafeMutableBytes(of: &address.sun_path) { raw in
      for (i, byte) in bytes.enumerated() { unsafe raw[i] = byte }
      unsafe raw[bytes.count] = 0
    }
    let length = socklen_t(MemoryLayout<sockaddr_un>.size)
    try unsafe withUnsafePointer(to: &address) { pointer throws(SharedMemoryError) in
      try unsafe pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { address throws(SharedMemoryError) in
        try unsafe body(address, length)
      }
    }
  }
}
