import Foundation
import Glibc
import Remoteproc
import SysfsFilesystem

/// A processor's folder in the tree, `remoteprocN/`: Linux's sysfs attributes (`name`,
/// `firmware`, `state`, `recovery`, `coredump`) and debugfs files (`traceN`,
/// `resource_table`, `carveout_memories`, `crash`), plus `devcoredump` while a core dump is
/// kept and `serialK` for each serial port's terminal.
///
/// `traceN` exist while the firmware's trace buffers do (from boot to stop), as in debugfs;
/// they and `devcoredump` are refreshed after every write through the tree (before the
/// writer's `write(2)` returns, so `echo start > state; cat trace0` works) and on the core's
/// events for changes made elsewhere.
struct ProcessorTree: Sendable {
  let hosted: HostedProcessor
  let tree: SysfsTree

  var folder: String { hosted.deviceName }

  /// Adds the folder and its fixed files.
  func build() throws(SysfsFilesystemError) {
    let processor = hosted.processor
    try tree.addDirectory(folder)
    // Linux remoteproc_sysfs.c: name 0444, the others 0644.
    try tree.addFile("\(folder)/name", SysfsFile(mode: 0o444, show: { await processor.read(.name) }))
    for attribute in [ProcessorAttribute.firmware, .state, .recovery, .coredump] {
      try tree.addFile(
        "\(folder)/\(attribute.rawValue)",
        SysfsFile(
          mode: 0o644, show: { await processor.read(attribute) },
          store: { text throws(SysfsFilesystemError) in
            do throws(RemoteprocError) { try await processor.write(attribute, text) } catch { throw Self.refusal(error) }
            await refresh()
          }))
    }
    // Linux remoteproc_debugfs.c: resource_table and carveout_memories 0400, crash 0200.
    try tree.addFile(
      "\(folder)/resource_table", SysfsFile(mode: 0o400, show: { await processor.resourceTableText }))
    try tree.addFile(
      "\(folder)/carveout_memories", SysfsFile(mode: 0o400, show: { await processor.carveoutText }))
    try tree.addFile(
      "\(folder)/crash",
      SysfsFile(
        mode: 0o200,
        store: { text throws(SysfsFilesystemError) in
          do throws(RemoteprocError) {
            try await processor.simulateCrash(try CrashWords.parse(text))
          } catch {
            throw Self.refusal(error)
          }
          await refresh()
        }))
  }

  /// Adds or removes `traceN` and `devcoredump` to match the processor now.
  func refresh() async {
    let processor = hosted.processor
    let traces = await processor.traceNames.count
    var index = 0
    while true {
      let path = "\(folder)/trace\(index)"
      if index < traces {
        if !tree.contains(path) {
          let i = index
          try? tree.addFile(path, SysfsFile(mode: 0o400, show: { () throws(SysfsFilesystemError) -> String in
            do throws(RemoteprocError) { return try await processor.traceText(i) } catch { throw Self.refusal(error) }
          }))
        }
      } else if tree.contains(path) {
        try? tree.remove(path)
      } else {
        break
      }
      index += 1
    }
    let dumps = await hosted.visibleCoredumps()
    let path = "\(folder)/devcoredump"
    if dumps.isEmpty {
      if tree.contains(path) { try? tree.remove(path) }
    } else if !tree.contains(path) {
      let hosted = self.hosted
      // Linux devcoredump's `data`: read the dump; any write frees it (here the next older
      // one, if kept, takes its place).
      try? tree.addFile(
        path,
        SysfsFile(
          mode: 0o600,
          showBytes: { () throws(SysfsFilesystemError) -> [UInt8] in
            guard let dump = await hosted.visibleCoredumps().last else {
              throw .refused(ENOENT, "no core dump")
            }
            return dump.bytes
          },
          storeBytes: { _ throws(SysfsFilesystemError) in
            if let dump = await hosted.visibleCoredumps().last {
              _ = hosted.discardedDumps.withLock { $0.insert(dump.number) }
            }
            await refresh()
          }))
    }
  }

  static func refusal(_ error: RemoteprocError) -> SysfsFilesystemError {
    .refused(error.errno, error.message)
  }
}

/// The words Linux's debugfs `crash` file takes (a number: 0 mmufault, 1 watchdog,
/// 2 fatal error), and their names too.
enum CrashWords {
  static func parse(_ text: String) throws(RemoteprocError) -> CrashType {
    let word = text.hasSuffix("\n") ? String(text.dropLast()) : text
    let trimmed = word.trimmingCharacters(in: .whitespaces)
    // kstrtouint(…, 0, …): decimal, 0x hex or 0 octal.
    let number: Int? =
      if trimmed.hasPrefix("0x") || trimmed.hasPrefix("0X") { Int(trimmed.dropFirst(2), radix: 16) }
      else if trimmed.count > 1, trimmed.hasPrefix("0") { Int(trimmed.dropFirst(), radix: 8) }
      else { Int(trimmed) }
    if let number, let type = CrashType(number: number) { return type }
    if let type = CrashType(rawValue: trimmed) { return type }
    if trimmed == "fatal" || trimmed == "fatal-error" { return .fatalError }
    throw RemoteprocError(
      .invalidArgument,
      "unknown crash type \"\(trimmed.prefix(32))\"; write 0 (mmufault), 1 (watchdog) or 2 (fatal error)")
  }
}
