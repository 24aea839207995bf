// swift-tools-version:6.2
import PackageDescription

// Runs one rpmsg-loopback loop N times, for counting instructions per message with
// valgrind's callgrind (the rproc tool itself does not run under valgrind 3.19). A package
// of its own so that the main build does not carry it. Use `Benchmarks/Callgrind/run.sh`.
let package = Package(
  name: "swift-remoteproc-callgrind",
  dependencies: [.package(name: "swift-remoteproc", path: "../..")],
  targets: [
    .executableTarget(
      name: "RPMsgLoopbackCallgrind",
      dependencies: [.product(name: "RemoteprocBenchmarks", package: "swift-remoteproc")],
      swiftSettings: [.strictMemorySafety(), .treatWarning("StrictMemorySafety", as: .error)]),
  ],
  swiftLanguageModes: [.v6]
)
