import SharedMemory

/// One vdev entry of the *loaded* resource table, read and written in place.
/// Wire: `struct fw_rsc_vdev` (24 bytes), then `num_of_vrings` × `struct fw_rsc_vdev_vring`
/// (20 bytes each), then `config_len` bytes of config space.
///
/// The region starts at the `fw_rsc_vdev` payload, just after the entry's 4-byte type
/// header. The remote may rewrite the entry at any time, so the shape (`num_of_vrings`,
/// `config_len`) is read and checked once, here, and every later access is bounded by it.
///
/// Ownership: `id`, `dfeatures`, `config_len`, `num_of_vrings`, each vring's `align` and
/// `num` are the firmware's; `gfeatures`, `status`, `notifyid`s and each vring's `da` are
/// written by the host. Config space belongs to the device, the driver may write it.
public struct VirtioDeviceEntry: Sendable {
  /// The entry's bytes, from `id` to the end of config space.
  public let region: MemoryRegion
  /// The firmware's byte order.
  public let byteOrder: ByteOrder
  /// Wire: `num_of_vrings`, as read when the view was made.
  public let vringCount: Int
  /// Wire: `config_len`, as read when the view was made.
  public let configLength: Int

  /// Field offsets. Wire: `struct fw_rsc_vdev`.
  static let id = 0, notifyID = 4, deviceFeatures = 8, driverFeatures = 12, configLen = 16
  static let status = 20, vringCountOffset = 21, headerSize = 24, vringSize = 20
  /// At most this many vrings per vdev. Linux: `RVDEV_NUM_VRINGS`.
  public static let maximumVrings = 2

  /// Checks that `region` holds a whole vdev entry: header, vrings and config space.
  public init(region: MemoryRegion, byteOrder: ByteOrder) throws(VirtioError) {
    guard region.count >= Self.headerSize else {
      throw VirtioError(.invalidConfiguration,
                        "vdev entry needs \(Self.headerSize) bytes, \(region.count) remain")
    }
    let vrings: UInt8, config: UInt32
    do {
      vrings = try region.loadByte(at: Self.vringCountOffset)
      config = try region.load(UInt32.self, at: Self.configLen, order: byteOrder)
    } catch {
      throw VirtioError(error, "reading the vdev entry")
    }
    guard Int(vrings) <= Self.maximumVrings else {
      throw VirtioError(.invalidConfiguration,
                        "vdev num_of_vrings \(vrings) > \(Self.maximumVrings)")
    }
    let need = UInt64(Self.headerSize) + UInt64(vrings) * UInt64(Self.vringSize) + UInt64(config)
    guard need <= UInt64(region.count) else {
      throw VirtioError(.invalidConfiguration,
                        "vdev entry with \(vrings) vring(s) and config_len \(config) needs "
                          + "\(need) bytes, \(region.count) remain")
    }
    self.region = region
    self.byteOrder = byteOrder
    self.vringCount = Int(vrings)
    self.configLength = Int(config)
  }

  func load32(_ offset: Int) -> UInt32 {
    (try? region.load(UInt32.self, at: offset, order: byteOrder)) ?? 0  // in bounds by init
  }
  func store32(_ value: UInt32, _ offset: Int) {
    try? region.store(value, at: offset, order: byteOrder)  // in bounds by init
  }

  /// The virtio device id (7 rpmsg, 11 remoteproc serial, 3 console). Wire: `id`.
  public var deviceID: UInt32 { load32(Self.id) }
  /// Wire: `notifyid` of the vdev (written by the host).
  public var notifyID: UInt32 {
    get { load32(Self.notifyID) }
    nonmutating set { store32(newValue, Self.notifyID) }
  }
  /// Features the device offers. Wire: `dfeatures`.
  public var deviceFeatures: VirtioFeatures { VirtioFeatures(rawValue: load32(Self.deviceFeatures)) }
  /// Features the driver accepted. Wire: `gfeatures`.
  public var driverFeatures: VirtioFeatures {
    get { VirtioFeatures(rawValue: load32(Self.driverFeatures)) }
    nonmutating set { store32(newValue.rawValue, Self.driverFeatures) }
  }
  /// The device status (acquire on read, release on write: the status publishes everything
  /// the host wrote before it). Wire: `status`.
  public var status: VirtioStatus {
    get { VirtioStatus(rawValue: (try? region.loadAcquire(UInt8.self, at: Self.status)) ?? 0) }
    nonmutating set { try? region.storeRelease(newValue.rawValue, at: Self.status) }
  }

  // MARK: Vrings

  /// One vring entry. Wire: `struct fw_rsc_vdev_vring`.
  public struct Vring: Hashable, Sendable {
    /// Wire: `da` (host-written; `FW_RSC_ADDR_ANY` before allocation).
    public var deviceAddress: UInt32
    /// Wire: `align`.
    public var alignment: UInt32
    /// Wire: `num`.
    public var count: UInt32
    /// Wire: `notifyid` (host-written).
    public var notifyID: UInt32
    /// Wire: `pa`.
    public var physicalAddress: UInt32

    public init(deviceAddress: UInt32, alignment: UInt32, count: UInt32, notifyID: UInt32,
                physicalAddress: UInt32) {
      self.deviceAddress = deviceAddress
      self.alignment = alignment
      self.count = count
      self.notifyID = notifyID
      self.physicalAddress = physicalAddress
    }
  }

  func vringOffset(_ index: Int) throws(VirtioError) -> Int {
    guard index >= 0, index < vringCount else {
      throw VirtioError(.invalidArgument, "vring \(index) of a vdev with \(vringCount)")
    }
    return Self.headerSize + index * Self.vringSize
  }

  /// Reads vring `index`.
  public func vring(_ index: Int) throws(VirtioError) -> Vring {
    let o = try vringOffset(index)
    return Vring(deviceAddress: load32(o), alignment: load32(o + 4), count: load32(o + 8),
                 notifyID: load32(o + 12), physicalAddress: load32(o + 16))
  }

  /// The layout vring `index` asks for (`num`, `align`), checked.
  public func vringLayout(_ index: Int) throws(VirtioError) -> VringLayout {
    let v = try vring(index)
    do {
      return try VringLayout(count: Int(v.count), alignment: Int(v.alignment))
    } catch {
      throw VirtioError(error.code, "vdev vring \(index): \(error.message)")
    }
  }

  /// Writes vring `index`'s device address. Wire: `fw_rsc_vdev_vring.da`.
  public func setVringDeviceAddress(_ index: Int, _ address: UInt32) throws(VirtioError) {
    store32(address, try vringOffset(index))
  }

  /// Writes vring `index`'s notify id. Wire: `fw_rsc_vdev_vring.notifyid`.
  public func setVringNotifyID(_ index: Int, _ id: UInt32) throws(VirtioError) {
    store32(id, try vringOffset(index) + 12)
  }

  // MARK: Config space

  var configOffset: Int { Self.headerSize + vringCount * Self.vringSize }

  func checkConfig(_ offset: Int, _ length: Int) throws(VirtioError) {
    guard offset >= 0, length >= 0, length <= configLength, offset <= configLength - length else {
      throw VirtioError(.outOfRange,
                        "config access [\(offset), +\(length)) past config_len \(configLength)")
    }
  }

  /// Reads `length` bytes of config space. Linux: `rproc_virtio_get`.
  public func readConfig(at offset: Int, count length: Int) throws(VirtioError) -> [UInt8] {
    try checkConfig(offset, length)
    do { return try region.bytes(at: configOffset + offset, count: length) } catch {
      throw VirtioError(error, "config read")
    }
  }

  /// Writes bytes into config space. Linux: `rproc_virtio_set`.
  public func writeConfig(_ bytes: [UInt8], at offset: Int) throws(VirtioError) {
    try checkConfig(offset, bytes.count)
    do { try region.write(bytes, at: configOffset + offset) } catch {
      throw VirtioError(error, "config write")
    }
  }

  /// Reads an integer from config space in the firmware's byte order.
  public func readConfig<T: FixedWidthInteger>(_: T.Type, at offset: Int) throws(VirtioError) -> T {
    try checkConfig(offset, MemoryLayout<T>.size)
    do { return try region.load(T.self, at: configOffset + offset, order: byteOrder) } catch {
      throw VirtioError(error, "config read")
    }
  }

  /// Writes an integer into config space in the firmware's byte order.
  public func writeConfig<T: FixedWidthInteger>(_ value: T, at offset: Int) throws(VirtioError) {
    try checkConfig(offset, MemoryLayout<T>.size)
    do { try region.store(value, at: configOffset + offset, order: byteOrder) } catch {
      throw VirtioError(error, "config write")
    }
  }
}
