/// The sysfs attributes of a remote processor. Linux: `remoteproc_sysfs.c`.
public enum ProcessorAttribute: String, Hashable, Sendable, CaseIterable {
  case firmware, state, name, recovery, coredump
}

extension RemoteProcessor {
  /// The text a read of the attribute returns, newline included, as Linux's `*_show`.
  public func read(_ attribute: ProcessorAttribute) -> String {
    switch attribute {
    case .firmware: (state == .attached ? "unknown" : firmwareName) + "\n"
    case .state: state.rawValue + "\n"
    case .name: name + "\n"
    case .recovery: (recoveryDisabled ? "disabled" : "enabled") + "\n"
    case .coredump: coredumpMode.rawValue + "\n"
    }
  }

  /// Writes an attribute with Linux's words and errors (`*_store`). A trailing newline is
  /// ignored, as `sysfs_streq` does, so `echo start > state` works.
  ///
  /// Writing `start` to `state` while the remote is up fails with `EBUSY` (older Linux did;
  /// current Linux counts it as another boot reference, which a later `stop` cannot undo).
  public func write(_ attribute: ProcessorAttribute, _ value: String) async throws(RemoteprocError) {
    let word = value.hasSuffix("\n") ? String(value.dropLast()) : value
    switch attribute {
    case .firmware: try await setFirmware(value)
    case .state:
      switch word {
      case "start":
        if state.isUp {
          throw RemoteprocError(.busy, "\(deviceName) is already \(state); write stop first")
        }
        try await boot()
      case "stop": try await shutdown()
      case "detach": try await detach()
      default:
        throw RemoteprocError(
          .invalidArgument, "Unrecognised option: \(Self.quoted(word)); write start, stop or detach")
      }
    case .recovery:
      switch word {
      case "enabled":
        recoveryDisabled = false
        await triggerRecovery()
      case "disabled": recoveryDisabled = true
      case "recover": await triggerRecovery()
      default:
        throw RemoteprocError(
          .invalidArgument, "invalid recovery option \(Self.quoted(word)); write enabled, disabled or recover")
      }
    case .coredump:
      guard state != .crashed else {
        throw RemoteprocError(.busy, "can't change coredump configuration while \(deviceName) is crashed")
      }
      guard let mode = CoredumpMode(rawValue: word) else {
        throw RemoteprocError(
          .invalidArgument, "Invalid coredump configuration \(Self.quoted(word)); write disabled, enabled or inline")
      }
      coredumpMode = mode
    case .name:
      throw RemoteprocError(.readOnly, "name is read-only")
    }
  }

  /// Chooses the firmware for the next boot. Linux: `rproc_set_firmware` (the name ends at
  /// the first newline; empty is invalid; only while offline).
  public func setFirmware(_ value: String) async throws(RemoteprocError) {
    await acquire()
    defer { release() }
    guard state == .offline else {
      throw RemoteprocError(.busy, "can't change firmware while \(deviceName) is \(state); write stop to state first")
    }
    let name = String(value.prefix { $0 != "\n" })
    guard !name.isEmpty else {
      throw RemoteprocError(.invalidArgument, "can't provide empty string for firmware name")
    }
    try FirmwareStore.validate(name: name)
    firmwareName = name
  }

  static func quoted(_ word: String) -> String {
    "\"" + String(word.prefix(64)).replacingOccurrences(of: "\"", with: "\\\"") + (word.count > 64 ? "…" : "") + "\""
  }
}
