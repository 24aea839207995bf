import Foundation

/// Checks a parsed file against the schema of `docs/rprocd-config.md` and builds the
/// configuration. Every refusal names the key and where it is.
struct ConfigurationDecoder {
  let file: String
  let baseDirectory: String
  let availableCPUs: CPUSet

  typealias Entries = [String: ConfigurationNode]

  static let processorKeys = [
    "name", "platform", "machine", "cpus", "memory", "firmware-directory", "firmware", "auto-boot",
    "recovery", "coredump", "on-exit", "legacy-zero-vring-address",
    // platform = "process" only:
    "doorbell", "memory-size", "watchdog-ms", "state-directory",
  ]
  static let processOnlyKeys = ["doorbell", "memory-size", "watchdog-ms", "state-directory"]
  static let memoryKeys = ["name", "device-address", "size", "kind"]

  func processors(in root: ConfigurationNode) throws(ConfigurationError) -> [ProcessorConfiguration] {
    let top = try table(root, ConfigurationKey(), allowed: ["processor"])
    guard let list = top["processor"] else {
      throw error(.missingKey, "no processors; add a [processor.remoteproc0] table", at: root, ConfigurationKey(components: ["processor"]))
    }
    guard case .table(let entries) = list.value else {
      throw error(.invalidValue, "expected a table of processors such as [processor.remoteproc0], found \(list.kind)", at: list, ConfigurationKey(components: ["processor"]))
    }
    guard !entries.isEmpty else {
      throw error(.missingKey, "no processors; add a [processor.remoteproc0] table", at: list, ConfigurationKey(components: ["processor"]))
    }
    var result: [ProcessorConfiguration] = []
    for (key, node) in entries {
      result.append(try processor(key, node, ConfigurationKey(components: ["processor", key])))
    }
    return result.sorted { $0.index < $1.index }
  }

  private func processor(_ key: String, _ node: ConfigurationNode, _ path: ConfigurationKey) throws(ConfigurationError) -> ProcessorConfiguration {
    guard key.hasPrefix("remoteproc"), let index = Int(key.dropFirst("remoteproc".count)), index >= 0,
      String(index) == key.dropFirst("remoteproc".count)
    else {
      throw error(.invalidValue, "a processor is named remoteprocN (N = 0, 1, …), as in /sys/class/remoteproc", at: node, path)
    }
    let entries = try table(node, path, allowed: Self.processorKeys)
    let platform = try choice(ProcessorConfiguration.Platform.self, entries, "platform", path, in: node)!
    var machine = try choice(ProcessorConfiguration.Machine.self, entries, "machine", path, in: node, required: platform == .emulated)
    if platform == .process, let given = entries["machine"] {
      throw error(.invalidValue, "machine applies to emulated cores only; a process core runs this host's code", at: given, path.appending("machine"))
    }
    if platform == .process { machine = nil }
    if platform == .emulated, let key = Self.processOnlyKeys.first(where: { entries[$0] != nil }) {
      throw error(.invalidValue, "\(key) applies to process cores only (platform = \"process\")", at: entries[key]!, path.appending(key))
    }
    if platform == .process, let given = entries["memory"] {
      throw error(.invalidValue, "a process core shares one memory file with its firmware; size it with memory-size instead of memory windows", at: given, path.appending("memory"))
    }
    let firmware = try string(entries, "firmware", path, in: node)!
    try checkFirmwareName(firmware, entries["firmware"]!, path.appending("firmware"))
    let onExit = try choice(ProcessorConfiguration.ExitAction.self, entries, "on-exit", path, in: node, required: false) ?? .stop
    if onExit == .detach, platform == .emulated {
      throw error(.invalidValue, "an emulated core lives in the daemon and cannot outlive it; use on-exit = \"stop\"", at: entries["on-exit"]!, path.appending("on-exit"))
    }
    let directory = try string(entries, "firmware-directory", path, in: node, required: false) ?? "/lib/firmware"
    return ProcessorConfiguration(
      deviceName: key, index: index,
      name: try string(entries, "name", path, in: node, required: false) ?? machine?.rawValue ?? "process",
      platform: platform, machine: machine,
      cpus: try cpus(entries["cpus"], path.appending("cpus")),
      memory: try memory(entries["memory"], path.appending("memory"), machine: machine),
      firmwareDirectory: URL(fileURLWithPath: directory, relativeTo: URL(fileURLWithPath: baseDirectory, isDirectory: true))
        .standardizedFileURL.path,
      firmware: firmware,
      autoBoot: try boolean(entries, "auto-boot", path) ?? false,
      recovery: try choice(ProcessorConfiguration.Recovery.self, entries, "recovery", path, in: node, required: false) ?? .enabled,
      coredump: try choice(ProcessorConfiguration.Coredump.self, entries, "coredump", path, in: node, required: false) ?? .disabled,
      onExit: onExit,
      legacyZeroVringAddress: try boolean(entries, "legacy-zero-vring-address", path) ?? false,
      process: platform == .process ? try processSettings(entries, path, in: node) : nil)
  }

  private func processSettings(_ entries: Entries, _ path: ConfigurationKey, in node: ConfigurationNode) throws(ConfigurationError) -> ProcessSettings {
    var settings = ProcessSettings()
    settings.doorbell = try choice(ProcessSettings.Doorbell.self, entries, "doorbell", path, in: node, required: false) ?? .sleep
    if entries["memory-size"] != nil {
      let size = try integer(entries, "memory-size", path, in: node)
      guard size % 4096 == 0, size >= 0x5000, size <= 0x8000_0000 else {
        throw error(.invalidValue, "memory-size 0x\(String(size, radix: 16)): it must be a multiple of 0x1000 in 0x5000...0x80000000", at: entries["memory-size"]!, path.appending("memory-size"))
      }
      settings.memorySize = size
    }
    if entries["watchdog-ms"] != nil {
      let milliseconds = try integer(entries, "watchdog-ms", path, in: node)
      guard milliseconds >= 10, milliseconds <= 3_600_000 else {
        throw error(.invalidValue, "watchdog-ms \(milliseconds): it must be in 10...3600000 (10 ms to an hour)", at: entries["watchdog-ms"]!, path.appending("watchdog-ms"))
      }
      settings.watchdogMilliseconds = milliseconds
    }
    if let directory = try string(entries, "state-directory", path, in: node, required: false) {
      guard !directory.isEmpty, !directory.contains("\0") else {
        throw error(.invalidValue, "state-directory must be a folder path", at: entries["state-directory"]!, path.appending("state-directory"))
      }
      settings.stateDirectory = URL(fileURLWithPath: directory, relativeTo: URL(fileURLWithPath: baseDirectory, isDirectory: true))
        .standardizedFileURL.path
    }
    return settings
  }

  private func checkFirmwareName(_ name: String, _ node: ConfigurationNode, _ path: ConfigurationKey) throws(ConfigurationError) {
    let parts = name.split(separator: "/", omittingEmptySubsequences: false)
    guard !name.isEmpty, !name.hasPrefix("/"), !parts.contains("..") , !name.contains("\0"), !name.contains("\n") else {
      throw error(.invalidValue, "\(name.debugDescription) must be a file name inside firmware-directory (not empty, not absolute, no ..)", at: node, path)
    }
  }

  private func cpus(_ node: ConfigurationNode?, _ path: ConfigurationKey) throws(ConfigurationError) -> CPUSet? {
    guard let node else { return nil }
    let set: CPUSet
    switch node.value {
    case .string(let text):
      do { set = try CPUSet(parsing: text) } catch {
        throw self.error(.invalidValue, "\(text.debugDescription) \(error.description)", at: node, path)
      }
    case .integer(let cpu) where cpu >= 0: set = CPUSet([cpu])
    default:
      throw error(.invalidValue, "expected a cpu list such as \"2-3,5\", found \(node.kind)", at: node, path)
    }
    if let missing = set.cpus.first(where: { !availableCPUs.contains($0) }) {
      throw error(.invalidValue, "CPU \(missing) does not exist here; this machine has CPUs \(availableCPUs)", at: node, path)
    }
    if set == availableCPUs {
      throw error(.invalidValue, "taking every CPU (\(set)) leaves none for the host; leave at least one", at: node, path)
    }
    return set
  }

  private func memory(_ node: ConfigurationNode?, _ path: ConfigurationKey, machine: ProcessorConfiguration.Machine?) throws(ConfigurationError) -> [MemoryWindowConfiguration] {
    guard let node else { return [] }
    guard case .array(let elements) = node.value else {
      throw error(.invalidValue, "expected an array of windows ([[…memory]] tables), found \(node.kind)", at: node, path)
    }
    var windows: [MemoryWindowConfiguration] = []
    for (index, element) in elements.enumerated() {
      let here = path.appending(index: index)
      let entries = try table(element, here, allowed: Self.memoryKeys)
      let name = try string(entries, "name", here, in: element)!
      let address = try integer(entries, "device-address", here, in: element)
      let size = try integer(entries, "size", here, in: element)
      let kind = try choice(MemoryWindowConfiguration.Kind.self, entries, "kind", here, in: element, required: false) ?? .pool
      let window = MemoryWindowConfiguration(name: name, deviceAddress: address, size: size, kind: kind)
      guard size > 0, address % 4096 == 0, size % 4096 == 0 else {
        throw error(.invalidValue, "window \(name) at 0x\(String(address, radix: 16)) of 0x\(String(size, radix: 16)) bytes: address and size must be non-zero multiples of 4 KiB (0x1000)", at: element, here)
      }
      let limit = machine?.addressLimit ?? UInt64.max
      guard address <= limit, size <= limit - address else {
        throw error(.invalidValue, "window \(name) [0x\(String(address, radix: 16)), +0x\(String(size, radix: 16))) ends past the 32-bit device address space", at: element, here)
      }
      if let clash = windows.first(where: { $0.name == name }) {
        throw error(.invalidValue, "two windows are named \(clash.name)", at: element, here.appending("name"))
      }
      if let clash = windows.first(where: { address < $0.deviceAddress + $0.size && $0.deviceAddress < address + size }) {
        throw error(.invalidValue, "window \(name) [0x\(String(address, radix: 16)), +0x\(String(size, radix: 16))) overlaps window \(clash.name) [0x\(String(clash.deviceAddress, radix: 16)), +0x\(String(clash.size, radix: 16)))", at: element, here)
      }
      windows.append(window)
    }
    return windows
  }

  // MARK: Typed access

  private func table(_ node: ConfigurationNode, _ path: ConfigurationKey, allowed: [String]) throws(ConfigurationError) -> Entries {
    guard case .table(let entries) = node.value else {
      throw error(.invalidValue, "expected a table, found \(node.kind)", at: node, path)
    }
    var result: Entries = [:]
    for (key, child) in entries {
      guard allowed.contains(key) else {
        let suggestion = Self.closest(to: key, in: allowed).map { "did you mean \($0)? " } ?? ""
        throw error(.unknownKey, "unknown key; \(suggestion)(allowed: \(allowed.joined(separator: ", ")))", at: child, path.appending(key))
      }
      result[key] = child
    }
    return result
  }

  private func string(_ entries: Entries, _ key: String, _ path: ConfigurationKey, in parent: ConfigurationNode, required: Bool = true) throws(ConfigurationError) -> String? {
    guard let node = entries[key] else {
      if required { throw error(.missingKey, "required key is missing", at: parent, path.appending(key)) }
      return nil
    }
    guard case .string(let text) = node.value else {
      throw error(.invalidValue, "expected a string, found \(node.kind)", at: node, path.appending(key))
    }
    return text
  }

  private func choice<E: RawRepresentable & CaseIterable>(_: E.Type, _ entries: Entries, _ key: String, _ path: ConfigurationKey, in parent: ConfigurationNode, required: Bool = true) throws(ConfigurationError) -> E? where E.RawValue == String {
    guard let text = try string(entries, key, path, in: parent, required: required) else { return nil }
    guard let value = E(rawValue: text) else {
      let words = E.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", ")
      throw error(.invalidValue, "\(text.debugDescription) is not one of \(words)", at: entries[key]!, path.appending(key))
    }
    return value
  }

  private func boolean(_ entries: Entries, _ key: String, _ path: ConfigurationKey) throws(ConfigurationError) -> Bool? {
    guard let node = entries[key] else { return nil }
    guard case .boolean(let flag) = node.value else {
      throw error(.invalidValue, "expected true or false, found \(node.kind)", at: node, path.appending(key))
    }
    return flag
  }

  private func integer(_ entries: Entries, _ key: String, _ path: ConfigurationKey, in parent: ConfigurationNode) throws(ConfigurationError) -> UInt64 {
    guard let node = entries[key] else { throw error(.missingKey, "required key is missing", at: parent, path.appending(key)) }
    guard case .integer(let number) = node.value, number >= 0 else {
      throw error(.invalidValue, "expected a non-negative integer (0x… allowed), found \(node.kind)", at: node, path.appending(key))
    }
    return UInt64(number)
  }

  private func error(_ code: ConfigurationError.Code, _ message: String, at node: ConfigurationNode, _ path: ConfigurationKey) -> ConfigurationError {
    ConfigurationError(code, message, file: file, position: node.position, key: path.description.isEmpty ? nil : path.description)
  }

  /// The allowed key nearest to a misspelt one, if it is close (edit distance ≤ 2).
  static func closest(to key: String, in allowed: [String]) -> String? {
    func distance(_ a: [Character], _ b: [Character]) -> Int {
      var previous = Array(0...b.count)
      for (i, x) in a.enumerated() {
        var current = [i + 1]
        for (j, y) in b.enumerated() {
          current.append(min(previous[j + 1] + 1, current[j] + 1, previous[j] + (x == y ? 0 : 1)))
        }
        previous = current
      }
      return previous[b.count]
    }
    let scored = allowed.map { ($0, distance(Array(key), Array($0))) }.min { $0.1 < $1.1 }
    return scored.flatMap { $0.1 <= 2 ? $0.0 : nil }
  }
}
