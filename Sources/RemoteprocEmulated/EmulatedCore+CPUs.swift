import CRemoteprocEmulatedShims
import HostCPUs

// MARK: CPUs taken from the host

extension EmulatedCore {
  /// The Linux thread id (`gettid`) of the core's owner thread while it runs, for `taskset`,
  /// `chrt` or `/proc/self/task/<id>`; nil when no owner thread runs.
  public var ownerThreadID: Int32? {
    let id = rproc_emu_thread_id(slot)
    return id == 0 ? nil : id
  }

  /// Checks ``Options/cpus`` as the process platform does: every CPU exists and is online,
  /// appears once, and the host keeps at least one. Returns the list sorted.
  static func validate(cpus: [Int]) throws(EmulationError) -> [Int] {
    do { return try CPUReservation.validate(cpus) } catch { throw EmulationError(error) }
  }

  /// Takes ``Options/cpus`` for one run and moves every thread of this process off them; the
  /// owner thread pins itself to them and gives them back when the run ends.
  func reserveCPUs() throws(EmulationError) -> CPUReservation? {
    do {
      return try CPUReservation.acquire(options.cpus, owner: name, pinsThreads: true)
    } catch {
      throw EmulationError(error)
    }
  }
}

extension EmulationError {
  /// The CPU registry's refusal, with its message.
  init(_ error: HostCPUError) {
    let code: Code =
      switch error.code {
      case .invalidCPUs: .invalidCPUs
      case .busy: .cpusTaken
      default: .thread
      }
    self.init(code, error.message, errno: error.errno)
  }
}
