/// A file in a ``SysfsTree``: what a read shows and what a write stores, like a Linux sysfs
/// attribute (`struct device_attribute`'s `show` and `store`).
///
/// - A read at offset 0 calls ``show`` once and the open file keeps the result, so a user
///   reading in several pieces sees one consistent text (Linux: `seq_file` behind kernfs).
/// - Each `write(2)` is one call to ``store`` with the bytes written, newline included;
///   if it throws, the `write(2)` fails with the error's errno.
/// - Opening for reading without a ``show``, or for writing without a ``store`` or a write
///   permission bit, fails with `EACCES` even for root (Linux: `kernfs_fop_open`).
public struct SysfsFile: Sendable {
  /// Produces the file's content.
  public typealias Show = @Sendable () async throws(SysfsFilesystemError) -> [UInt8]
  /// Consumes one write.
  public typealias Store = @Sendable ([UInt8]) async throws(SysfsFilesystemError) -> Void

  /// Permission bits, e.g. `0o644`, `0o444`, `0o200`.
  public var mode: UInt16
  public var show: Show?
  public var store: Store?

  /// A file of bytes. `mode` defaults to Linux's choice for the closures given: 0644 with
  /// both, 0444 with only `show`, 0200 with only `store`.
  public init(mode: UInt16? = nil, showBytes show: Show?, storeBytes store: Store?) {
    self.mode = mode ?? (show != nil ? 0o444 : 0) | (store != nil ? 0o200 : 0)
    self.show = show
    self.store = store
  }

  /// A text file: `show` returns the text (end it with a newline, as sysfs does) and
  /// `store` gets the written text, newline included (bytes that are not UTF-8 become
  /// U+FFFD).
  public init(
    mode: UInt16? = nil,
    show: (@Sendable () async throws(SysfsFilesystemError) -> String)? = nil,
    store: (@Sendable (String) async throws(SysfsFilesystemError) -> Void)? = nil
  ) {
    var showBytes: Show?
    if let show {
      showBytes = { () async throws(SysfsFilesystemError) -> [UInt8] in Array(try await show().utf8) }
    }
    var storeBytes: Store?
    if let store {
      storeBytes = { (bytes: [UInt8]) async throws(SysfsFilesystemError) -> Void in
        try await store(String(decoding: bytes, as: UTF8.self))
      }
    }
    self.init(mode: mode, showBytes: showBytes, storeBytes: storeBytes)
  }

  /// A file whose content never changes.
  public static func constant(_ text: String, mode: UInt16 = 0o444) -> SysfsFile {
    SysfsFile(mode: mode, show: { text })
  }
}
