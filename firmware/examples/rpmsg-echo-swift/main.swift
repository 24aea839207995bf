// rpmsg-echo in Embedded Swift (rv32, cortex-m4): the same firmware as examples/rpmsg-echo,
// with its resource table and logic in Swift over the C SDK (vrings, rpmsg, trace, mailbox).
// It announces rpmsg-client-sample and rpmsg-tty and sends every message back to its sender.
import RprocSDK

#if arch(riscv32)
/// The trace buffer lives at a fixed address the linker script keeps free: a Swift constant
/// (and the table must be one) cannot hold the address of a global.
let traceAddress: UInt32 = 0x80FF_0000
let machineName: StaticString = "rv32"
#else
let traceAddress: UInt32 = 0x00FF_0000
let machineName: StaticString = "cortex-m4"
#endif
let traceSize: UInt32 = 4096

/// The resource table, laid out as Linux's `struct resource_table` followed by a trace entry
/// (`fw_rsc_trace`) and an rpmsg vdev entry (`fw_rsc_vdev` + two `fw_rsc_vdev_vring`): 140
/// bytes of 32-bit words. A tuple, because `@section` needs a constant expression (Swift 6.3
/// folds tuples of literals, not struct initializers).
typealias Vring = (deviceAddress: UInt32, alignment: UInt32, count: UInt32, notifyID: UInt32, physicalAddress: UInt32)
typealias Name = (UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32)

#if arch(riscv32)
@section(".resource_table") @used
let resourceTable: (
  header: (version: UInt32, count: UInt32, reserved0: UInt32, reserved1: UInt32, offset0: UInt32, offset1: UInt32),
  trace: (type: UInt32, deviceAddress: UInt32, length: UInt32, reserved: UInt32, name: Name),
  vdev: (type: UInt32, id: UInt32, notifyID: UInt32, deviceFeatures: UInt32, guestFeatures: UInt32,
         configLength: UInt32, statusAndRingCount: UInt32, ring0: Vring, ring1: Vring)
) = (
  header: (1, 2, 0, 0, 24, 72),
  trace: (2, 0x80FF_0000, 4096, 0, (0x6361_7274, 0x0000_3065, 0, 0, 0, 0, 0, 0)),  // "trace0"
  vdev: (3, 7, 0, 0x2000_0001, 0, 0, 0x200,  // RPMSG; NS and EVENT_IDX; status 0, 2 vrings
         (0xFFFF_FFFF, 4096, 16, 0, 0), (0xFFFF_FFFF, 4096, 16, 0, 0)))
#else
@section(".resource_table") @used
let resourceTable: (
  header: (version: UInt32, count: UInt32, reserved0: UInt32, reserved1: UInt32, offset0: UInt32, offset1: UInt32),
  trace: (type: UInt32, deviceAddress: UInt32, length: UInt32, reserved: UInt32, name: Name),
  vdev: (type: UInt32, id: UInt32, notifyID: UInt32, deviceFeatures: UInt32, guestFeatures: UInt32,
         configLength: UInt32, statusAndRingCount: UInt32, ring0: Vring, ring1: Vring)
) = (
  header: (1, 2, 0, 0, 24, 72),
  trace: (2, 0x00FF_0000, 4096, 0, (0x6361_7274, 0x0000_3065, 0, 0, 0, 0, 0, 0)),  // "trace0"
  vdev: (3, 7, 0, 0x2000_0001, 0, 0, 0x200,  // RPMSG; NS and EVENT_IDX; status 0, 2 vrings
         (0xFFFF_FFFF, 4096, 16, 0, 0), (0xFFFF_FFFF, 4096, 16, 0, 0)))
#endif

// The SDK stores the bus and endpoints: Embedded Swift 6.3 sizes a global of an imported C
// struct without its tail padding, and the C side writes whole structs.
let bus = rproc_rpmsg_static_bus()!

func trace(_ text: StaticString) {
  rproc_trace_write(text.utf8Start, UInt32(text.utf8CodeUnitCount))
}

func cString(_ text: StaticString) -> UnsafePointer<CChar> {
  UnsafeRawPointer(text.utf8Start).assumingMemoryBound(to: CChar.self)
}

/// Both endpoints echo: whatever arrives goes back to its sender from the endpoint's address.
let echo: rproc_rpmsg_callback = { bus, endpoint, source, data, length in
  guard let bus, let endpoint else { return }
  if rproc_rpmsg_send(bus, endpoint.pointee.addr, source, data, length) != 0 {
    trace("rpmsg-echo-swift: an echo was lost\n")
  }
}

@main
struct RpmsgEcho {
  static func main() {
    rproc_trace_init_at(traceAddress, traceSize)
    trace("rpmsg-echo on ")
    trace(machineName)
    trace(" (Embedded Swift): hello\n")
    guard let vdev = rproc_table_find_vdev(UInt32(RPROC_VIRTIO_ID_RPMSG)) else {
      rproc_abort(0xBAD7_AB1E)
    }
    rproc_rpmsg_init(bus, vdev)
    _ = rproc_rpmsg_add_endpoint(
      bus, rproc_rpmsg_static_endpoint(0), cString("rpmsg-client-sample"), RPROC_RPMSG_ADDR_ANY,
      echo, nil)
    _ = rproc_rpmsg_add_endpoint(
      bus, rproc_rpmsg_static_endpoint(1), cString("rpmsg-tty"), RPROC_RPMSG_ADDR_ANY, echo, nil)
    rproc_platform_init(RPROC_KICKS_INTERRUPT)
    while true {
      _ = rproc_kicks_take()
      if rproc_rpmsg_poll(bus) < 0 { trace("rpmsg-echo-swift: the host broke a ring\n") }
      rproc_wait_for_kick()
    }
  }
}
