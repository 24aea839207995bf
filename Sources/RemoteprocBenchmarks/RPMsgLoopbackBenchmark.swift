import RPMsg
import SharedMemory
import Synchronization

/// `rproc bench rpmsg-loopback`: both rpmsg roles in one process, on one thread, with no
/// system call on the message path: a host bus and a remote bus over one shared mapping
/// (256-entry vrings, name service and EVENT_IDX negotiated), kicks delivered by calling
/// the other side's `handleKick` at once after each send, the way an in-process remote
/// would run.
///
/// - one-way: the host try-sends a message to a remote endpoint, the remote takes it from
///   vring 1, runs the endpoint's callback, and returns the buffer.
/// - echo: as one-way, and the remote's callback sends the payload back
///   (`message.reply(_:)`, a try-send from its endpoint to the source); the host receives
///   it on vring 0, runs its callback and re-posts the buffer (one full round trip).
/// - zero-copy one-way: the host borrows a transmit buffer, fills its 496 payload bytes in
///   place (a memset) and sends it.
///
/// The rpmsg locks are biased to the thread that takes them first, so on one thread they
/// cost no atomic instruction. `oneway_ns_32_unbiased` and `echo_ns_32_unbiased` repeat
/// two loops after another thread has used both buses, as in any multi-threaded program:
/// the bias is revoked and every critical section takes a compare-and-swap.
///
/// Each figure is the median over `runs` of (time for `messages` messages) / `messages`.
/// `allocations_per_message` counts every heap allocation in the process during all the
/// timed loops, divided by the messages they carried (needs a counter: the rproc tool
/// links one that interposes malloc).
public struct RPMsgLoopbackBenchmark {
  public struct Result: Codable, Hashable, Sendable {
    public var oneway_ns_32: Double
    public var oneway_ns_496: Double
    public var echo_ns_32: Double
    public var echo_ns_496: Double
    public var zerocopy_oneway_ns_496: Double
    /// One-way and echo (32 bytes) once another thread used the buses (locks unbiased).
    public var oneway_ns_32_unbiased: Double
    public var echo_ns_32_unbiased: Double
    /// Heap allocations per message in the timed loops; nil without a counter.
    public var allocations_per_message: Double?
    /// The floor: copy 32 bytes into shared memory, publish an index (release), read it back
    /// (acquire) and copy the bytes out, in the same process.
    public var floor_ns_32: Double
    /// True when the allocation counter was seen counting a known number of allocations.
    public var allocation_counter_verified: Bool?
    public var messages: Int
    public var runs: Int
  }

  public let messages: Int
  public let runs: Int
  let allocations: (() -> UInt64)?

  /// - Parameter allocations: reads a process-wide allocation counter, or nil.
  public init(messages: Int = 1_000_000, runs: Int = 5, allocations: (() -> UInt64)? = nil) {
    self.messages = messages
    self.runs = runs
    self.allocations = allocations
  }

  public func run() throws -> Result {
    let verified = allocations.map { counter in
      let before = counter()
      var keep: [[Int]] = []
      keep.reserveCapacity(1000)
      for i in 0..<1000 { keep.append([i, i + 1]) }  // 1000 array buffers on the heap
      let seen = counter() - before
      return keep.count == 1000 && seen >= 1000
    }

    let loops = try RPMsgLoopbackWorkload()
    // Warm up every path (first-touch page faults, lazy metadata), then measure. Only the
    // message loops are counted for allocations (not the stopwatch's own bookkeeping).
    for _ in 0..<3 {
      loops.oneWay(payloadCount: 32, messages: messages)
      loops.roundTrip(payloadCount: 32, messages: messages)
      loops.zeroCopy(messages: messages)
    }
    var allocated: UInt64 = 0
    func timed(_ body: () -> Void) -> Double {
      Stopwatch.median(runs: runs, warmup: 0) {
        let before = allocations?() ?? 0
        body()
        allocated += (allocations?() ?? 0) - before
      } / Double(messages)
    }
    let oneway32 = timed { loops.oneWay(payloadCount: 32, messages: messages) }
    let oneway496 = timed { loops.oneWay(payloadCount: 496, messages: messages) }
    let echo32 = timed { loops.roundTrip(payloadCount: 32, messages: messages) }
    let echo496 = timed { loops.roundTrip(payloadCount: 496, messages: messages) }
    let zero496 = timed { loops.zeroCopy(messages: messages) }
    // Once another thread used both buses, as in a multi-threaded program.
    loops.useFromAnotherThread()
    loops.oneWay(payloadCount: 32, messages: messages)
    loops.roundTrip(payloadCount: 32, messages: messages)
    let oneway32Unbiased = timed { loops.oneWay(payloadCount: 32, messages: messages) }
    let echo32Unbiased = timed { loops.roundTrip(payloadCount: 32, messages: messages) }
    let n = Double(messages)
    let perMessage: Double? = allocations.map { _ in Double(allocated) / (7 * Double(runs) * n) }
    try loops.check()
    return Result(
      oneway_ns_32: oneway32, oneway_ns_496: oneway496, echo_ns_32: echo32, echo_ns_496: echo496,
      zerocopy_oneway_ns_496: zero496, oneway_ns_32_unbiased: oneway32Unbiased,
      echo_ns_32_unbiased: echo32Unbiased, allocations_per_message: perMessage,
      floor_ns_32: try floor(), allocation_counter_verified: verified, messages: messages,
      runs: runs)
  }

  /// The same-process floor for one 32-byte message through shared memory.
  func floor() throws -> Double {
    let mapping = try SharedMapping.anonymous(count: 4096)
    let region = mapping.region
    let payload = [UInt8](repeating: 0x5A, count: 32)
    var out = [UInt8](repeating: 0, count: 32)
    var index: UInt16 = 0
    var sum = 0
    let ns = try Stopwatch.median(runs: runs, warmup: 1) {
      for _ in 0..<messages {
        try region.write(payload, at: 64)
        index &+= 1
        try region.storeRelease(index, at: 0, order: .little)
        let seen = try region.loadAcquire(UInt16.self, at: 0, order: .little)
        var span = out.mutableSpan
        try region.read(at: 64, into: &span)
        sum &+= Int(seen)
      }
    } / Double(messages)
    _ = sum
    return ns
  }
}
