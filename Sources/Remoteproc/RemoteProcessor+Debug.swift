import Firmware
import SharedMemory

extension RemoteProcessor {
  /// The trace buffers the firmware declared, in table order.
  public var traceNames: [String] { session?.traces.map(\.name) ?? [] }

  /// The text in trace buffer `index` (`trace0`, …), up to its first NUL. Readable at any
  /// time while the remote's memory is in use (running, attached, crashed). Linux: debugfs
  /// `trace%d` (`rproc_trace_read`).
  public func traceText(_ index: Int) throws(RemoteprocError) -> String {
    guard let traces = session?.traces, traces.indices.contains(index) else {
      throw RemoteprocError(
        .notFound, "\(deviceName) has no trace\(index) (it has \(session?.traces.count ?? 0) trace buffers while \(state))")
    }
    let trace = traces[index]
    guard let region = translate(UInt64(trace.deviceAddress), Int(trace.length)) else {
      throw RemoteprocError(.addressNotMapped, "trace\(index) at da \(hex(trace.deviceAddress)) is not mapped")
    }
    let text = (try? region.withBytes(at: 0, count: region.count) { span -> [UInt8] in
      var bytes: [UInt8] = []
      for index in span.indices {
        let byte = span[index]
        if byte == 0 { break }
        bytes.append(byte)
      }
      return bytes
    }) ?? []
    return String(decoding: text, as: UTF8.self)
  }

  /// The resource table as Linux's debugfs `resource_table` shows it: the table in remote
  /// memory while the remote runs, else the host's copy.
  public var resourceTableText: String {
    guard let table = session?.currentTable else { return "No resource table found\n" }
    return ((try? table.reparse()) ?? table.table).linuxDebugfsText
  }

  /// The memory the core allocated, as Linux's debugfs `carveout_memories` shows it.
  public var carveoutText: String {
    (session?.carveouts ?? []).map { carveout in
      "Carveout memory entry:\n\tName: \(carveout.name)\n\tVirtual address: \(hex(carveout.region.hostAddress))\n"
        + "\tDMA address: \(hex(carveout.physicalAddress))\n\tDevice address: \(hex(carveout.deviceAddress))\n"
        + "\tLength: \(hex(carveout.length)) Bytes\n\n"
    }.joined()
  }

  /// The carveouts the core allocated for the current boot.
  public var carveouts: [Carveout] { session?.carveouts ?? [] }

  /// The subdevices (virtio drivers) of the current run.
  public var subdevices: [any RemoteprocSubdevice] { session?.subdevices ?? [] }

  /// The table in remote memory while the remote runs.
  public var loadedResourceTable: LoadedResourceTable? { session?.loaded }
}
