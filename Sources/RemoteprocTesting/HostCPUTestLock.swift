/// One test at a time that takes CPUs from the host (a platform's `cpus`), across every test
/// target.
///
/// All test targets run in one process, where one registry hands out CPUs, and suites of
/// different targets run in parallel (`.serialized` orders only a suite's own tests): two such
/// tests would ask for the same CPU and one would be refused. Each holds this lock instead;
/// they are short, because every other thread of the process is squeezed off the CPU meanwhile.
public enum HostCPUTestLock {
  private static let lock = AsyncLock()

  /// Runs `body` once no other test holding the lock runs.
  public static func withLock<T>(_ body: () async throws -> T) async throws -> T {
    await lock.acquire()
    do {
      let value = try await body()
      await lock.release()
      return value
    } catch {
      await lock.release()
      throw error
    }
  }
}

/// A first-come first-served lock for async code.
private actor AsyncLock {
  private var held = false
  private var waiters: [CheckedContinuation<Void, Never>] = []

  func acquire() async {
    guard held else {
      held = true
      return
    }
    await withCheckedContinuation { waiters.append($0) }  // handed over still held
  }

  func release() {
    if waiters.isEmpty { held = false } else { waiters.removeFirst().resume() }
  }
}
