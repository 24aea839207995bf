/// The error type of the RemoteprocEmulated module.
public struct EmulationError: Error, Hashable, Sendable, CustomStringConvertible {
  public struct Code: Hashable, Sendable, CustomStringConvertible {
    private enum Wrapped: Hashable, Sendable {
      case invalidMachine, invalidState, outOfCores, emulator, memory, thread, invalidCPUs, cpusTaken
    }
    private var wrapped: Wrapped
    private init(_ wrapped: Wrapped) { self.wrapped = wrapped }

    /// The machine description is inconsistent (overlapping or unaligned windows…).
    public static var invalidMachine: Self { Self(.invalidMachine) }
    /// The core is not in a state that allows the operation (Linux: `-EBUSY`/`-EINVAL`).
    public static var invalidState: Self { Self(.invalidState) }
    /// Every emulator slot of this process is in use.
    public static var outOfCores: Self { Self(.outOfCores) }
    /// Unicorn refused an operation; the message carries its `uc_err`.
    public static var emulator: Self { Self(.emulator) }
    /// Guest memory could not be created or does not cover an address.
    public static var memory: Self { Self(.memory) }
    /// The owner thread could not be started (or pinned to its CPUs).
    public static var thread: Self { Self(.thread) }
    /// ``EmulatedCore/Options/cpus`` names a CPU the core cannot have: out of range, listed
    /// twice, missing or offline, or every CPU of the host. Linux: `-EINVAL`.
    public static var invalidCPUs: Self { Self(.invalidCPUs) }
    /// Another remote processor of this process holds one of the core's CPUs. Linux: `-EBUSY`.
    public static var cpusTaken: Self { Self(.cpusTaken) }

    public var description: String { "\(wrapped)" }
  }

  public var code: Code
  public var message: String
  /// Set when a system call failed.
  public var errno: Int32?

  public init(_ code: Code, _ message: String, errno: Int32? = nil) {
    self.code = code
    self.message = message
    self.errno = errno
  }

  public var description: String {
    if let errno { return "\(code): \(message) (errno \(errno))" }
    return "\(code): \(message)"
  }
}
