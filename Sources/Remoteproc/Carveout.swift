import SharedMemory

/// Memory the core allocated for the remote: a firmware carveout, a vring, an rpmsg buffer
/// pool. Linux: `struct rproc_mem_entry` on `rproc->carveouts`.
public struct Carveout: Sendable {
  /// Linux naming: the firmware's name for carveouts, `vdev0vring0` for vrings,
  /// `vdev0buffer` for buffer pools.
  public var name: String
  public var deviceAddress: UInt64
  /// What Linux calls the DMA address.
  public var physicalAddress: UInt64
  public var length: Int
  public var region: MemoryRegion
  /// The window it came from.
  public var windowName: String
}

/// Places allocations in a platform's pool windows, first fit, page aligned, never over
/// another allocation or a reserved range (the firmware's own segments and fixed buffers).
struct CarveoutAllocator: Sendable {
  static let alignment: UInt64 = 4096

  private let memory: PlatformMemory
  private var used: [(start: UInt64, end: UInt64, name: String)] = []

  init(memory: PlatformMemory) {
    self.memory = memory
  }

  /// Marks `[da, da + length)` as taken by something the core did not allocate.
  mutating func reserve(deviceAddress da: UInt64, length: UInt64, name: String) {
    guard length > 0 else { return }
    used.append((da, da &+ length, name))
  }

  private func overlap(_ start: UInt64, _ end: UInt64) -> String? {
    used.first { $0.start < end && start < $0.end }?.name
  }

  /// Allocates `length` bytes at a fixed device address, or anywhere in a pool window when
  /// `deviceAddress` is nil.
  mutating func allocate(
    name: String, length: Int, deviceAddress requested: UInt64?
  ) throws(RemoteprocError) -> Carveout {
    guard length > 0 else {
      throw RemoteprocError(.badResourceTable, "carveout \(name): length 0 is not a valid size")
    }
    let size = UInt64(length)
    if let da = requested {
      let (end, overflow) = da.addingReportingOverflow(size)
      guard !overflow, let window = memory.window(containing: da, length: length),
        let region = window.slice(deviceAddress: da, length: length)
      else {
        throw RemoteprocError(
          .outOfMemory,
          "carveout \(name): no platform memory covers da \(hex(da)) length \(hex(length)); the platform offers \(describeWindows())")
      }
      if let other = overlap(da, end) {
        throw RemoteprocError(
          .outOfMemory, "carveout \(name): da \(hex(da)) length \(hex(length)) overlaps \(other)")
      }
      used.append((da, end, name))
      return Carveout(
        name: name, deviceAddress: da, physicalAddress: window.physicalAddress + (da - window.deviceAddress),
        length: length, region: region, windowName: window.name)
    }
    for window in memory.windows where window.isAllocationPool {
      var candidate = alignUp(window.deviceAddress)
      let windowEnd = window.deviceAddress + UInt64(window.length)
      while candidate < windowEnd, windowEnd - candidate >= size {
        if let blocker = used.filter({ $0.start < candidate + size && candidate < $0.end }).map(\.end).max() {
          candidate = alignUp(blocker)
          continue
        }
        guard let region = window.slice(deviceAddress: candidate, length: length) else { break }
        used.append((candidate, candidate + size, name))
        return Carveout(
          name: name, deviceAddress: candidate,
          physicalAddress: window.physicalAddress + (candidate - window.deviceAddress), length: length,
          region: region, windowName: window.name)
      }
    }
    throw RemoteprocError(
      .outOfMemory,
      "carveout \(name): no free \(hex(length))-byte range in the platform's pool windows (\(describeWindows()))")
  }

  private func alignUp(_ value: UInt64) -> UInt64 {
    (value + Self.alignment - 1) & ~(Self.alignment - 1)
  }

  private func describeWindows() -> String {
    memory.windows.map { "\($0.name) [\(hex($0.deviceAddress)), +\(hex($0.length)))" }.joined(separator: ", ")
  }
}
