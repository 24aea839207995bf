// swift-tools-version:6.2
import PackageDescription

/// Every Swift target is compiled in strict memory-safety mode, with its diagnostics as errors:
/// only the SharedMemory target may write `unsafe` (a test enforces that too).
let strict: [SwiftSetting] = [
  .strictMemorySafety(),
  .treatWarning("StrictMemorySafety", as: .error),
]

let package = Package(
  name: "swift-remoteproc",
  platforms: [.macOS(.v15)],
  products: [
    .library(name: "SharedMemory", targets: ["SharedMemory"]),
    .library(name: "Virtio", targets: ["Virtio"]),
    .library(name: "RPMsg", targets: ["RPMsg"]),
  ],
  targets: [
    // The wire contract shared with the firmware SDK (firmware/ includes the same header).
    .target(name: "CRemoteprocWire"),
    // Atomics, futex and memfd for the SharedMemory target.
    .target(name: "CSharedMemoryShims"),
    // The one target that touches raw memory.
    .target(name: "SharedMemory", dependencies: ["CSharedMemoryShims"], swiftSettings: strict),

    // Split virtqueues (driver and device roles) and the vdev status/feature handshake.
    .target(name: "Virtio", dependencies: ["SharedMemory"], swiftSettings: strict),
    // The rpmsg bus over a vdev, host and remote roles.
    .target(name: "RPMsg", dependencies: ["Virtio", "SharedMemory"], swiftSettings: strict),

    .testTarget(name: "SharedMemoryTests", dependencies: ["SharedMemory"], swiftSettings: strict),
    .testTarget(name: "VirtioTests", dependencies: ["Virtio", "CRemoteprocWire"], swiftSettings: strict),
    .testTarget(name: "RPMsgTests", dependencies: ["RPMsg", "Virtio", "SharedMemory", "CRemoteprocWire"],
                swiftSettings: strict),
  ],
  swiftLanguageModes: [.v6]
)
