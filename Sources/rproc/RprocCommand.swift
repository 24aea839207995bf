import ArgumentParser

@main
struct RprocCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "rproc",
    abstract: "Load, run and inspect remote-processor firmware; control rprocd's processors; measure the stack.",
    subcommands: [
      Run.self, Inspect.self, OpenAMP.self, Bench.self, List.self, Status.self, Start.self, Stop.self, Firmware.self, Trace.self,
      Coredump.self,
    ])
}

/// `rproc bench …`: each prints figures against a baseline measured in the same run.
struct Bench: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Measure the stack against baselines run in the same process.",
    subcommands: [ELFLoad.self, RPMsgLoopback.self, EmulatedKick.self, RPMsgProcess.self])
}
