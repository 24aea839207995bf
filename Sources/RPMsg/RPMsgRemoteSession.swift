import Virtio

/// The remote (virtio device) side's view of its host across sessions: the host sets
/// DRIVER_OK, may take it away (a reset), and may be replaced by another host. Each
/// ``follow(_:entry:addressMap:log:endpoints:)`` looks at the device status once and brings
/// the bus in line: resets it when the host took DRIVER_OK away, and when the host set it,
/// makes the remote's endpoints (once per session: a reset ends them) and starts the bus;
/// then delivers what the host sent. A remote's wait loop calls it after every wake-up
/// (OpenAMP: `rproc_virtio_wait_remote_ready`, then `rpmsg_virtio` polling).
public struct RPMsgRemoteSession {
  private var madeEndpoints = false

  public init() {}

  /// Follows the device status once; true when the bus started in this call.
  /// - Parameter endpoints: makes the remote's endpoints before the bus starts (create them
  ///   with `announce: true` so the host learns about them when the device comes up).
  @discardableResult
  public mutating func follow(
    _ bus: RPMsgBus, entry: VirtioDeviceEntry, addressMap: DeviceAddressMap, log: (String) -> Void,
    endpoints: (RPMsgBus) throws(RPMsgError) -> Void
  ) -> Bool {
    let ready = entry.status.contains(.driverOK)
    if bus.isRunning, !ready { reset(bus, reason: "the host reset the device") }
    var started = false
    if !bus.isRunning, ready {
      do throws(RPMsgError) {
        if !madeEndpoints {
          try endpoints(bus)
          madeEndpoints = true
        }
        started = try bus.startRemote(resource: entry, addressMap: addressMap)
      } catch {
        log("rpmsg: the host's device is unusable: \(error)")
      }
    }
    if bus.isRunning { bus.handleKick() }
    return started
  }

  /// Ends the session (a new host, or the host left): the bus resets, and the endpoints are
  /// made again before the next start.
  public mutating func reset(_ bus: RPMsgBus, reason: String) {
    if bus.isRunning { bus.reset(reason: reason) }
    madeEndpoints = false
  }
}
