// rpmsg-echo as a native firmware in Swift: announces rpmsg-client-sample and rpmsg-tty and
// sends every message back to whoever sent it, with the same RPMsg code the host uses (device
// role). Run it with the process platform (ProcessPlatform); on its own it says why it cannot run.
import Foundation
import RPMsg
import RemoteprocNative
import RemoteprocRemote

// The resource table the host reads from this executable: a trace buffer in the trace area
// and an rpmsg vdev with two 64-entry vrings wherever the host likes. Wire: struct
// resource_table, fw_rsc_trace, fw_rsc_vdev (the numbers are remoteproc_wire.h's).
@section(".resource_table") @used
let resourceTable: (
  // header: ver, num, reserved[2], offset[2]
  UInt32, UInt32, UInt32, UInt32, UInt32, UInt32,
  // trace: type 2, da, len, reserved, name[32]
  UInt32, UInt32, UInt32, UInt32, (UInt64, UInt64, UInt64, UInt64),
  // vdev: type 3, id 7, notifyid, dfeatures (NS | EVENT_IDX), gfeatures, config_len,
  // status, num_of_vrings, reserved[2] (one word: 0x0000_0200 = 2 vrings)
  UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32,
  // vring 0 and 1: da (any), align, num, notifyid, pa
  UInt32, UInt32, UInt32, UInt32, UInt32,
  UInt32, UInt32, UInt32, UInt32, UInt32
) = (
  1, 2, 0, 0, 24, 72,
  2, 0x8000_2000, 0x2000, 0, (0x3065_6361_7274, 0, 0, 0),  // "trace0"
  3, 7, 0, 0x2000_0001, 0, 0, 0x0000_0200,
  0xFFFF_FFFF, 4096, 64, 0, 0,
  0xFFFF_FFFF, 4096, 64, 0, 0
)

let remote: NativeRemote
do {
  remote = try NativeRemote()
} catch {
  FileHandle.standardError.write(Data("rpmsg-echo-remote: \(error)\n".utf8))
  exit(2)
}
remote.log("rpmsg-echo-remote (Swift): hello")
do {
  let bus = try remote.rpmsgBus(log: { remote.log($0) })
  // The endpoints are made again each time the host (re)starts the device.
  try remote.run(bus) { bus throws(RPMsgError) in
    for name in ["rpmsg-client-sample", "rpmsg-tty"] {
      _ = try bus.createEndpoint(name: name, announce: true, receive: { [bus] message in
        // Send it back from the endpoint it came to, to whoever sent it.
        guard let endpoint = bus.endpoint(at: message.destination) else { return }
        let to = message.source
        let sent = message.withPayload { payload in
          Result { () throws(RPMsgError) in try endpoint.trySend(payload, to: to) }
        }
        if case .failure(let error) = sent {
          remote.log("rpmsg-echo-remote: echo to \(to.rawValue) lost: \(error)")
        }
      })
    }
  }
} catch {
  remote.log("rpmsg-echo-remote: \(error)")
  FileHandle.standardError.write(Data("rpmsg-echo-remote: \(error)\n".utf8))
  exit(1)
}
