import Firmware
import Foundation

/// Finds firmware files by name in configured directories, like Linux's `request_firmware`
/// searching `/lib/firmware`.
///
/// A name is a relative path (subdirectories allowed, as `ti/ipu1.xem4`); it is refused when
/// it is empty, absolute, contains `..` components, or resolves (through symlinks) outside
/// the directory it was found in.
public struct FirmwareStore: Sendable {
  public var directories: [String]

  public init(directories: [String]) {
    self.directories = directories
  }

  /// Checks a name without touching the file system.
  public static func validate(name: String) throws(RemoteprocError) {
    guard !name.isEmpty else {
      throw RemoteprocError(.invalidArgument, "firmware name is empty; give a file name such as case-invert-mips32.elf")
    }
    guard !name.hasPrefix("/") else {
      throw RemoteprocError(
        .invalidArgument, "firmware name \(name) is absolute; give a name relative to the firmware directory")
    }
    guard !name.split(separator: "/", omittingEmptySubsequences: false).contains(where: { $0 == ".." }) else {
      throw RemoteprocError(.invalidArgument, "firmware name \(name) leaves the firmware directory (it contains ..)")
    }
    guard !name.contains("\0"), !name.contains("\n") else {
      throw RemoteprocError(.invalidArgument, "firmware name contains a NUL or newline")
    }
  }

  /// The full path of the first directory's file called `name`.
  public func path(for name: String) throws(RemoteprocError) -> String {
    try Self.validate(name: name)
    for directory in directories {
      let root = URL(fileURLWithPath: directory).standardizedFileURL.resolvingSymlinksInPath().path
      let candidate = URL(fileURLWithPath: root).appendingPathComponent(name)
      let resolved = candidate.resolvingSymlinksInPath().path
      guard FileManager.default.fileExists(atPath: resolved) else { continue }
      guard resolved.hasPrefix(root.hasSuffix("/") ? root : root + "/") else {
        throw RemoteprocError(
          .invalidArgument, "firmware \(name) resolves to \(resolved), outside the firmware directory \(root)")
      }
      return resolved
    }
    let searched = directories.isEmpty ? "no firmware directories are configured" : "searched \(directories.joined(separator: ", "))"
    throw RemoteprocError(.notFound, "firmware \(name) not found (\(searched))")
  }

  /// Reads and parses `name`.
  public func image(named name: String) throws(RemoteprocError) -> ELFImage {
    let path = try path(for: name)
    guard let data = FileManager.default.contents(atPath: path) else {
      throw RemoteprocError(.notFound, "firmware \(name): cannot read \(path)")
    }
    do {
      return try ELFImage(bytes: [UInt8](data))
    } catch {
      throw RemoteprocError(error, firmware: name)
    }
  }
}
