extension RemoteProcessor {
  /// Linux: `rproc_prepare_subdevices`, unrolling on failure.
  func prepareSubdevices() async throws(RemoteprocError) {
    let subdevices = session?.subdevices ?? []
    for (index, subdevice) in subdevices.enumerated() {
      do throws(RemoteprocError) {
        try await subdevice.prepare()
      } catch {
        for earlier in subdevices[..<index].reversed() { await earlier.unprepare() }
        session?.subdevices = []
        throw error
      }
    }
  }

  /// Linux: `rproc_start_subdevices`, stopping the started ones (as crashed) on failure.
  func startSubdevices(notifier: RemoteprocNotifier) async throws(RemoteprocError) {
    let subdevices = session?.subdevices ?? []
    for (index, subdevice) in subdevices.enumerated() {
      do throws(RemoteprocError) {
        try await subdevice.start()
      } catch {
        for earlier in subdevices[..<index].reversed() { await earlier.stop(crashed: true) }
        throw error
      }
    }
  }

  /// Linux: `rproc_stop_subdevices`, in reverse order.
  func stopSubdevices(crashed: Bool) async {
    for subdevice in (session?.subdevices ?? []).reversed() { await subdevice.stop(crashed: crashed) }
  }

  /// Linux: `rproc_unprepare_subdevices`, in reverse order.
  func unprepareSubdevices() async {
    for subdevice in (session?.subdevices ?? []).reversed() { await subdevice.unprepare() }
  }
}
