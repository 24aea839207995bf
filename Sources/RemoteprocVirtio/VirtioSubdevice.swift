import Firmware
import RPMsg
import Remoteproc
import SharedMemory
import Synchronization
import Virtio
import VirtioSerial

/// One vdev's driver for one boot of the remote: brings the device up when the core starts
/// its subdevices, routes the vrings' interrupts to it, and resets it when the remote stops
/// or crashes. Linux: `rproc_vdev_do_start` / `rproc_vdev_do_stop` with the virtio driver's
/// probe and remove.
final class VirtioSubdevice: RemoteprocSubdevice {
  enum Device: Sendable {
    case rpmsg(RPMsgBus)
    case serial(VirtioSerialPort)
  }

  let context: VirtioDeviceContext
  let notifier: RemoteprocNotifier
  let device: Device
  let brokenTransportIsCrash: Bool
  private let reportedBroken = Atomic<Bool>(false)

  init(context: VirtioDeviceContext, notifier: RemoteprocNotifier, device: Device, brokenTransportIsCrash: Bool) {
    self.context = context
    self.notifier = notifier
    self.device = device
    self.brokenTransportIsCrash = brokenTransportIsCrash
  }

  func start() async throws(RemoteprocError) {
    let name = "\(context.processorName) vdev \(context.index)"
    guard let pool = context.bufferPool else {
      throw RemoteprocError(.platform, "\(name): no buffer pool was allocated")
    }
    let entry: VirtioDeviceEntry
    do {
      entry = try VirtioDeviceEntry(region: context.entry, byteOrder: context.byteOrder)
    } catch {
      throw RemoteprocError(.badResourceTable, "\(name): \(error.message)")
    }
    let vrings = context.vrings.map {
      DeviceMemory(deviceAddress: $0.memory.deviceAddress, region: $0.memory.region)
    }
    let buffers = DeviceMemory(deviceAddress: pool.deviceAddress, region: pool.region)
    // The remote's kicks: vring 0 and vring 1 by their notify ids.
    for (i, vring) in context.vrings.enumerated() {
      switch device {
      case .rpmsg(let bus):
        notifier.route(vring.notifyID) { [self] in
          bus.handleKick(vring: i)
          if brokenTransportIsCrash { reportIfBroken(bus) }
        }
      case .serial(let port): notifier.route(vring.notifyID) { port.handleKick(vring: i) }
      }
    }
    do throws(RemoteprocError) {
      switch device {
      case .rpmsg(let bus):
        do throws(RPMsgError) {
          try bus.startHost(resource: entry, vrings: vrings, buffers: buffers)
        } catch {
          throw RemoteprocError(.platform, "\(name): rpmsg: \(error)")
        }
      case .serial(let port):
        do throws(VirtioError) {
          try port.start(resource: entry, vrings: vrings, buffers: buffers)
        } catch {
          throw RemoteprocError(.platform, "\(name): serial: \(error)")
        }
      }
    } catch {
      for vring in context.vrings { notifier.unroute(vring.notifyID) }
      throw error
    }
  }

  /// With `brokenTransportIsCrash`: a remote that wrote something impossible into the rings
  /// broke the bus, which is a crash of the processor (reported once per boot), so that
  /// recovery restarts it.
  private func reportIfBroken(_ bus: RPMsgBus) {
    guard let error = bus.transportError, !reportedBroken.exchange(true, ordering: .relaxed) else { return }
    notifier.reportCrash(
      .fatalError, details: "\(context.processorName) vdev \(context.index): rpmsg transport broken: \(error.message)")
  }

  func stop(crashed: Bool) async {
    for vring in context.vrings { notifier.unroute(vring.notifyID) }
    switch device {
    case .rpmsg(let bus):
      bus.reset(reason: crashed ? "\(context.processorName) crashed" : "\(context.processorName) stopped")
    case .serial(let port):
      port.reset()
    }
  }
}
