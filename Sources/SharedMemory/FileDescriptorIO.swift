import Glibc

/// The raw file-descriptor calls the daemon's building blocks need, kept here because each one
/// hands C a pointer (a buffer or a path) and only this target may write `unsafe`.
///
/// Audit notes: every buffer is a Swift array sized before the call and the length passed is
/// that size; strings cross as NUL-terminated copies that live for the duration of the call.
/// Nothing here keeps a pointer after it returns. `EINTR` is retried in one place.
public enum FileDescriptorIO {
  /// Opens `path`. Linux: `open(2)`. Returns the descriptor.
  public static func open(
    _ path: String, flags: Int32, mode: UInt32 = 0
  ) throws(SharedMemoryError) -> Int32 {
    try checkString(path, "path")
    let fd = retryingInterrupts { unsafe Glibc.open(path, flags, mode_t(mode)) }
    guard fd >= 0 else { throw SharedMemoryError(.systemCall, "open(\(path))", errno: errno) }
    return fd
  }

  /// One `read(2)` of at most `count` bytes; an empty array means end of file.
  public static func read(_ fd: Int32, upTo count: Int) throws(SharedMemoryError) -> [UInt8] {
    guard count >= 0 else {
      throw SharedMemoryError(.invalidArgument, "read(fd \(fd)) of \(count) bytes")
    }
    var failure: Int32 = 0
    let bytes = unsafe [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
      let result = retryingInterrupts { unsafe Glibc.read(fd, buffer.baseAddress, count) }
      if result < 0 { failure = errno }
      initialized = max(result, 0)
    }
    guard failure == 0 else {
      throw SharedMemoryError(.systemCall, "read(fd \(fd), \(count) bytes)", errno: failure)
    }
    return bytes
  }

  /// One `write(2)` of `bytes`; returns how many were written (a pipe or terminal may take
  /// fewer). A FUSE reply or a packet must go out in one call, so this never loops.
  @discardableResult
  public static func write(_ fd: Int32, _ bytes: [UInt8]) throws(SharedMemoryError) -> Int {
    let result = unsafe bytes.withUnsafeBytes { buffer in
      retryingInterrupts { unsafe Glibc.write(fd, buffer.baseAddress, buffer.count) }
    }
    guard result >= 0 else {
      throw SharedMemoryError(.systemCall, "write(fd \(fd), \(bytes.count) bytes)", errno: errno)
    }
    return result
  }

  /// Writes all of `bytes`, calling `write(2)` until done.
  public static func writeAll(_ fd: Int32, _ bytes: [UInt8]) throws(SharedMemoryError) {
    var rest = bytes[...]
    while !rest.isEmpty {
      let written = try write(fd, Array(rest))
      rest = rest.dropFirst(written)
    }
  }

  /// Mounts a file system. Linux: `mount(2)`; `options` is its `data` string.
  public static func mount(
    source: String, target: String, type: String, flags: UInt, options: String
  ) throws(SharedMemoryError) {
    for (string, what) in [(source, "source"), (target, "target"), (type, "type"), (options, "options")] {
      try checkString(string, what)
    }
    let result = unsafe Glibc.mount(source, target, type, flags, options)
    guard result == 0 else {
      throw SharedMemoryError(.systemCall, "mount(\(type) on \(target))", errno: errno)
    }
  }

  /// Unmounts the file system at `target`. Linux: `umount2(2)` (`MNT_DETACH` is 2).
  public static func unmount(_ target: String, flags: Int32) throws(SharedMemoryError) {
    try checkString(target, "target")
    guard unsafe umount2(target, flags) == 0 else {
      throw SharedMemoryError(.systemCall, "umount2(\(target))", errno: errno)
    }
  }

  /// The C library's text for an errno (`strerror_r`), e.g. "Invalid argument".
  public static func describe(errno code: Int32) -> String {
    var buffer = [CChar](repeating: 0, count: 256)
    // Swift sees the XSI strerror_r, which fills the buffer and returns 0 on success.
    let text = unsafe buffer.withUnsafeMutableBufferPointer { buffer -> String? in
      guard unsafe strerror_r(code, buffer.baseAddress!, buffer.count - 1) == 0 else { return nil }
      return unsafe String(cString: buffer.baseAddress!)
    }
    return text ?? "Unknown error \(code)"
  }

  private static func checkString(_ string: String, _ what: String) throws(SharedMemoryError) {
    guard !string.utf8.contains(0) else {
      throw SharedMemoryError(.invalidArgument, "\(what) contains a NUL byte")
    }
  }

  private static func retryingInterrupts<T: BinaryInteger>(_ call: () -> T) -> T {
    while true {
      let result = call()
      if result >= 0 || errno != EINTR { return result }
    }
  }
}
