import Firmware
import Foundation
import RPMsg
import SharedMemory
import Synchronization
import Virtio

/// A remote in Swift that an OpenAMP Linux-machine host attaches to (OpenAMP's
/// `rpmsg-echo-ping` run as `… 1`, or this package's ``OpenAMPPlatform``): the virtio device
/// role, on the same `RPMsg` code the host runs.
///
/// It plays the part of OpenAMP's remote that listens (`unixs:`, proc index 0): it creates the
/// shared-memory file (``OpenAMPConfiguration/sharedMemorySize`` bytes, zeroed), writes its
/// resource table at ``OpenAMPConfiguration/tableOffset``, and listens on the kick socket.
///
/// ```swift
/// let remote = try OpenAMPRemote()                 // OpenAMP's file, table and socket
/// let bus = remote.rpmsgBus()
/// try remote.run(bus) { bus in                     // serves hosts until stop()
///   _ = try bus.createEndpoint(name: "rpmsg-openamp-demo-channel", announce: true) { message in … }
/// }
/// ```
///
/// `run` waits for a host, brings the bus up when the host writes DRIVER_OK into the table's
/// vdev status (OpenAMP's host writes 0x4 after the features and vrings, ours 0x1, 0x3, 0x7),
/// serves kicks, and when the host closes the socket resets the bus, writes the table back as
/// published (status 0, so the next host's handshake is seen) and waits for the next host.
public final class OpenAMPRemote: Sendable {
  public let configuration: OpenAMPConfiguration
  public let tableOptions: TableOptions
  /// The whole shared-memory file.
  public let memory: MemoryRegion
  /// The remote's view of device addresses: the file from ``OpenAMPConfiguration/deviceAddressBase``.
  public let addressMap: DeviceAddressMap
  /// The table as published.
  public let table: ResourceTable
  /// The table's bytes in the file, where the host writes status and features.
  public let tableRegion: MemoryRegion
  private let mapping: SharedMapping
  let listener: OpenAMPEventListener
  /// The connected host's socket.
  let host = Mutex<OpenAMPEventSocket?>(nil)
  let hosts = Atomic<Int>(0)

  /// Creates (or reuses) the file, zeroes it, writes the table, and listens on the socket.
  public init(configuration: OpenAMPConfiguration = .init(), table options: TableOptions = .init()) throws(OpenAMPError) {
    try configuration.validate()
    let bytes = options.build()
    try options.check(against: configuration, tableBytes: bytes.count)
    self.configuration = configuration
    self.tableOptions = options
    let path = configuration.sharedMemoryPath
    do {
      mapping = try SharedMapping.file(path: path, count: configuration.sharedMemorySize, create: true)
      memory = mapping.region
      try memory.fill(0, at: 0, count: memory.count)
      tableRegion = try memory.slice(at: configuration.tableOffset, length: bytes.count)
      try tableRegion.write(bytes, at: 0)
      table = try ResourceTable(bytes: bytes, byteOrder: .host)
    } catch let error as SharedMemoryError {
      throw OpenAMPError(.sharedMemory, "\(path): \(error.message)", errno: error.errno)
    } catch {
      throw OpenAMPError(.badResourceTable, "the table built for \(path): \(error)")
    }
    addressMap = DeviceAddressMap(deviceAddress: configuration.deviceAddressBase, region: memory)
    listener = try OpenAMPEventListener.listen(path: configuration.socketPath)
  }

  deinit { listener.close() }

  /// The rpmsg vdev entry of the table.
  public func device() throws(OpenAMPError) -> VirtioDeviceEntry {
    for entry in table.entries {
      guard case .virtioDevice(let device) = entry.kind, device.id == RPMsgBus.virtioDeviceID else { continue }
      do {
        return try VirtioDeviceEntry(
          region: try tableRegion.slice(at: entry.payloadOffset, length: device.payloadByteCount), byteOrder: .host)
      } catch {
        throw OpenAMPError(.badResourceTable, "vdev entry \(entry.index): \(error)")
      }
    }
    throw OpenAMPError(.badResourceTable, "the resource table has no rpmsg vdev")
  }

  /// An rpmsg bus in the device role whose kicks go to the connected host (dropped while
  /// none is connected).
  public func rpmsgBus(log: @escaping @Sendable (String) -> Void = { _ in }) -> RPMsgBus {
    RPMsgBus(role: .remote, notify: { [self] _ in kickHost() }, log: log)
  }

  /// Sends the host one kick (one byte on the socket).
  public func kickHost() {
    host.withLock { $0 }?.ring()
  }

  /// Whether a host is connected now.
  public var hasHost: Bool { host.withLock { $0 != nil } }

  /// How many hosts have connected so far.
  public var hostsSeen: Int { hosts.load(ordering: .relaxed) }

  /// Ends ``run(_:onHost:log:endpoints:)``: the connected host sees the socket close, the
  /// socket file is removed. The file stays.
  public func stop() {
    listener.wakeUp()
  }
}
