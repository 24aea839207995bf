import SharedMemory

/// Translates the device addresses that descriptors carry into memory this process can read.
///
/// A descriptor's `addr` is an address in the *remote's* view (Linux: a DMA address, which
/// remoteproc firmware sees as its device address). The map is a list of windows, each a
/// device-address range backed by a ``MemoryRegion``. Linux: `rproc_da_to_va` over the
/// carveouts; OpenAMP: `metal_io_phys_to_offset`.
public struct DeviceAddressMap: Sendable {
  /// One device-address range backed by a region (`region.count` bytes long).
  public struct Window: Sendable {
    /// The device address of the region's first byte.
    public var deviceAddress: UInt64
    /// The bytes behind the window.
    public var region: MemoryRegion

    public init(deviceAddress: UInt64, region: MemoryRegion) {
      self.deviceAddress = deviceAddress
      self.region = region
    }
  }

  /// Where a device-address range lies: which window, and the offset in its region.
  public struct Location: Hashable, Sendable {
    /// Index into ``DeviceAddressMap/windows``.
    public var window: Int
    /// Byte offset inside that window's region.
    public var offset: Int

    @inlinable public init(window: Int, offset: Int) {
      self.window = window
      self.offset = offset
    }
  }

  /// The windows, in the order given; they never overlap.
  public let windows: [Window]

  /// Makes a map; windows must not overlap nor wrap past 2⁶⁴.
  public init(_ windows: [Window]) throws(VirtioError) {
    for (i, w) in windows.enumerated() {
      let (end, overflow) = w.deviceAddress.addingReportingOverflow(UInt64(w.region.count))
      guard !overflow else {
        throw VirtioError(.invalidConfiguration,
                          "window \(i) at da 0x\(String(w.deviceAddress, radix: 16)) wraps past 2^64")
      }
      for (j, other) in windows.enumerated() where j < i {
        let otherEnd = other.deviceAddress &+ UInt64(other.region.count)
        if w.deviceAddress < otherEnd && other.deviceAddress < end {
          throw VirtioError(
            .invalidConfiguration,
            "window \(i) [0x\(String(w.deviceAddress, radix: 16)), 0x\(String(end, radix: 16))) "
              + "overlaps window \(j) [0x\(String(other.deviceAddress, radix: 16)), "
              + "0x\(String(otherEnd, radix: 16)))")
        }
      }
    }
    self.windows = windows
  }

  /// A map with no window: every lookup fails.
  public init() {
    self.windows = []
  }

  /// A map with one window.
  public init(deviceAddress: UInt64, region: MemoryRegion) {
    self.windows = [Window(deviceAddress: deviceAddress, region: region)]
  }

  /// Where `[address, address + length)` lies, or nil unless one window holds all of it.
  @inlinable
  public func locate(_ address: UInt64, length: Int) -> Location? {
    guard length >= 0 else { return nil }
    var i = 0
    while i < windows.count {
      let start = windows[i].deviceAddress
      if address >= start {
        let offset = address &- start
        let size = UInt64(windows[i].region.count)
        if offset <= size, UInt64(length) <= size &- offset {
          return Location(window: i, offset: Int(offset))
        }
      }
      i &+= 1
    }
    return nil
  }

  /// Like ``locate(_:length:)`` but throws a message naming the range.
  public func location(of address: UInt64, length: Int) throws(VirtioError) -> Location {
    guard let location = locate(address, length: length) else {
      throw VirtioError(
        .addressNotMapped,
        "device address range [0x\(String(address, radix: 16)), +0x\(String(length, radix: 16))) "
          + "is outside the \(windows.count) mapped window(s)")
    }
    return location
  }

  /// The region behind `location`, sliced to `length` bytes.
  public func region(at location: Location, length: Int) throws(VirtioError) -> MemoryRegion {
    guard location.window >= 0, location.window < windows.count else {
      throw VirtioError(.invalidArgument, "window \(location.window) of \(windows.count)")
    }
    do {
      return try windows[location.window].region.slice(at: location.offset, length: length)
    } catch {
      throw VirtioError(.addressNotMapped, "window \(location.window): \(error.message)")
    }
  }

  /// The device address of byte `offset` of window `window`.
  public func deviceAddress(window: Int, offset: Int) -> UInt64 {
    windows[window].deviceAddress &+ UInt64(offset)
  }
}
