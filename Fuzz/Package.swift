// swift-tools-version:6.2
import PackageDescription

// The libFuzzer harness over ELF and resource-table parsing. A package of its own, because
// it only links with `-sanitize=fuzzer` (libFuzzer supplies `main`). Build and run it with
// `Fuzz/run.sh SECONDS`.
let package = Package(
  name: "swift-remoteproc-fuzz",
  dependencies: [.package(name: "swift-remoteproc", path: "..")],
  targets: [
    // libFuzzer's entry point: keeps each input so safe Swift can read it byte by byte.
    .target(name: "CFuzzInput"),
    .executableTarget(
      name: "FirmwareFuzzer",
      dependencies: [
        "CFuzzInput",
        .product(name: "Firmware", package: "swift-remoteproc"),
        .product(name: "SharedMemory", package: "swift-remoteproc"),
      ],
      swiftSettings: [
        .strictMemorySafety(), .treatWarning("StrictMemorySafety", as: .error),
        .unsafeFlags(["-parse-as-library"]),
      ]),
  ],
  swiftLanguageModes: [.v6]
)
