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
    .library(name: "RemoteprocEmulated", targets: ["RemoteprocEmulated"]),
    .library(name: "Firmware", targets: ["Firmware"]),
    .library(name: "Remoteproc", targets: ["Remoteproc"]),
    .library(name: "Virtio", targets: ["Virtio"]),
    .library(name: "RPMsg", targets: ["RPMsg"]),
    .library(name: "VirtioSerial", targets: ["VirtioSerial"]),
    .library(name: "RPMsgDrivers", targets: ["RPMsgDrivers"]),
    .library(name: "RemoteprocVirtio", targets: ["RemoteprocVirtio"]),
    .library(name: "SysfsFilesystem", targets: ["SysfsFilesystem"]),
    .library(name: "PacketCapture", targets: ["PacketCapture"]),
    .library(name: "DaemonConfiguration", targets: ["DaemonConfiguration"]),
    .library(name: "PseudoTerminal", targets: ["PseudoTerminal"]),
    .library(name: "RemoteprocBenchmarks", targets: ["RemoteprocBenchmarks"]),
    .library(name: "RemoteprocProcess", targets: ["RemoteprocProcess"]),
    .library(name: "RemoteprocRemote", targets: ["RemoteprocRemote"]),
    .library(name: "RemoteprocOpenAMP", targets: ["RemoteprocOpenAMP"]),
    .executable(name: "rpmsg-echo-remote", targets: ["rpmsg-echo-remote"]),
    .executable(name: "rproc", targets: ["rproc"]),
    .executable(name: "rprocd", targets: ["rprocd"]),
    .executable(name: "rpmsg", targets: ["rpmsg"]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    .package(url: "https://github.com/LebJe/TOMLKit", exact: "0.6.0"),
    .package(url: "https://github.com/jpsim/Yams", exact: "6.2.2"),
  ],
  targets: [
    // The wire contract shared with the firmware SDK (firmware/ includes the same header).
    .target(name: "CRemoteprocWire"),
    // Atomics, futex and memfd for the SharedMemory target.
    .target(name: "CSharedMemoryShims"),
    // The one target that touches raw memory.
    .target(name: "SharedMemory", dependencies: ["CSharedMemoryShims"], swiftSettings: strict),

    // poll, pseudo-terminals and raw mode for the daemon's building blocks: integer-only
    // functions, so calling them is safe Swift.
    .target(name: "CSystemShims"),

    // The daemon's building blocks (rprocd assembles them):
    // a FUSE server that shows a sysfs-like tree of files backed by async closures;
    .target(name: "SysfsFilesystem", dependencies: ["SharedMemory", "CSystemShims"], swiftSettings: strict),
    // a pcapng writer and reader for rpmsg traffic;
    .target(name: "PacketCapture", swiftSettings: strict),
    // rprocd's configuration file (TOML or YAML);
    .target(
      name: "DaemonConfiguration",
      dependencies: [
        .product(name: "TOMLKit", package: "TOMLKit"),
        .product(name: "Yams", package: "Yams"),
      ],
      swiftSettings: strict),
    // pseudo-terminals for serial ports and rpmsg-tty channels.
    .target(name: "PseudoTerminal", dependencies: ["SharedMemory", "CSystemShims"], swiftSettings: strict),
    // rprocd's socket protocol: frames, requests, results, events and the UNIX socket.
    .target(name: "RprocdProtocol", dependencies: ["SharedMemory", "CSystemShims"], swiftSettings: strict),
    // A client connection to rprocd, for the rproc and rpmsg tools.
    .target(name: "RprocdClient", dependencies: ["RprocdProtocol", "CSystemShims"], swiftSettings: strict),

    // ELF images and resource tables: parse, validate, load, write back.
    .target(name: "Firmware", dependencies: ["SharedMemory"], swiftSettings: strict),
    // The remote-processor core: lifecycle, resources, subdevices, attributes, crash recovery.
    .target(name: "Remoteproc", dependencies: ["Firmware", "SharedMemory"], swiftSettings: strict),

    // Split virtqueues (driver and device roles) and the vdev status/feature handshake.
    .target(name: "Virtio", dependencies: ["SharedMemory"], swiftSettings: strict),
    // The rpmsg bus over a vdev, host and remote roles.
    .target(name: "RPMsg", dependencies: ["Virtio", "SharedMemory"], swiftSettings: strict),
    // Host-side channel drivers: rpmsg-tty, rpmsg-client-sample, rpmsg-raw.
    .target(name: "RPMsgDrivers", dependencies: ["RPMsg"], swiftSettings: strict),
    // The host side of the remoteproc serial port (virtio id 11) and console (3).
    .target(name: "VirtioSerial", dependencies: ["Virtio", "SharedMemory"], swiftSettings: strict),

    // The core's virtio drivers: rpmsg and the serial port as remoteproc subdevices.
    .target(
      name: "RemoteprocVirtio",
      dependencies: ["Remoteproc", "Firmware", "RPMsg", "VirtioSerial", "Virtio", "SharedMemory"],
      swiftSettings: strict),

    // The platforms processors run on, made from rprocd's configuration or rproc run's choices.
    .target(
      name: "RemoteprocHost",
      dependencies: ["DaemonConfiguration", "Remoteproc", "RemoteprocEmulated", "RemoteprocProcess", "RemoteprocNative"],
      swiftSettings: strict),

    // rprocd: processors as a service, with the sysfs tree, the socket, terminals and captures.
    .target(
      name: "RprocdService",
      dependencies: [
        "RemoteprocHost", "DaemonConfiguration", "Remoteproc", "RemoteprocVirtio", "RPMsg", "RPMsgDrivers",
        "VirtioSerial", "SysfsFilesystem", "PseudoTerminal", "RprocdProtocol", "SharedMemory", "CSystemShims",
      ],
      swiftSettings: strict),

    // Test aids: a platform whose firmware is Swift code, and builders of test images.
    .target(name: "RemoteprocTesting", dependencies: ["Remoteproc", "Firmware", "SharedMemory"], swiftSettings: strict),

    // Measurements behind `rproc bench`, each against a baseline run in the same process.
    .target(
      name: "RemoteprocBenchmarks",
      dependencies: [
        "Firmware", "SharedMemory", "RPMsg", "RemoteprocEmulated", "Remoteproc", "RemoteprocVirtio", "VirtioSerial",
        "Virtio", "RemoteprocProcess", "RemoteprocNative",
      ],
      swiftSettings: strict),
    // Counts heap allocations by interposing malloc; linked only into the rproc tool.
    .target(name: "CMallocCounter"),

    // The command-line tool.
    .executableTarget(
      name: "rproc",
      dependencies: [
        "Firmware", "RemoteprocBenchmarks", "CMallocCounter", "Remoteproc", "RemoteprocEmulated",
        "RemoteprocHost", "RemoteprocProcess", "RemoteprocVirtio", "RemoteprocOpenAMP", "RPMsg", "RPMsgDrivers", "VirtioSerial",
        "SharedMemory", "RprocdClient", "RprocdCommandLine", "RprocdProtocol", "DaemonConfiguration",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ],
      swiftSettings: strict),

    // What the rproc and rpmsg client commands share: the socket option, JSON, colors, errors.
    .target(
      name: "RprocdCommandLine",
      dependencies: ["RprocdClient", "RprocdProtocol", .product(name: "ArgumentParser", package: "swift-argument-parser")],
      swiftSettings: strict),

    // The daemon.
    .executableTarget(
      name: "rprocd",
      dependencies: [
        "RprocdService", "RprocdCommandLine", "DaemonConfiguration",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ],
      swiftSettings: strict),

    // The rpmsg client tool: channels, messages, endpoints, captures through rprocd.
    .executableTarget(
      name: "rpmsg",
      dependencies: [
        "RprocdClient", "RprocdCommandLine", "RprocdProtocol", "PacketCapture", "SharedMemory",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ],
      swiftSettings: strict),

    // The native-process contract (the memfd's control page and futex doorbells), shared by
    // the host platform and the Swift remote API.
    .target(name: "RemoteprocNative", dependencies: ["SharedMemory"], swiftSettings: strict),
    // The affinity of this process's threads behind an integer-only C API.
    .target(name: "CHostCPUShims"),
    // CPUs taken from the host for remote cores (the `cpus` option of every platform): the
    // checks, the process-wide registry, and moving the host's threads off them.
    .target(name: "HostCPUs", dependencies: ["CHostCPUShims"], swiftSettings: strict),
    // Spawning, watching and pinning firmware processes behind an integer-only C API.
    .target(name: "CProcessShims", dependencies: ["CHostCPUShims"]),
    // Remote cores that are native Linux processes on CPUs taken from the host.
    .target(
      name: "RemoteprocProcess",
      dependencies: [
        "Remoteproc", "Firmware", "SharedMemory", "RemoteprocNative", "HostCPUs", "CProcessShims", "CSystemShims",
      ],
      swiftSettings: strict),
    // The remote side in Swift: a native firmware built on the same rpmsg code (device role).
    .target(
      name: "RemoteprocRemote",
      dependencies: ["RemoteprocNative", "RPMsg", "Virtio", "Firmware", "SharedMemory"],
      swiftSettings: strict),
    // OpenAMP's Linux machine, both roles: the host attaches to a remote that publishes its table
    // in a shared-memory file and takes kicks on a UNIX socket; a Swift remote serves such hosts.
    .target(
      name: "RemoteprocOpenAMP",
      dependencies: ["Remoteproc", "Firmware", "RPMsg", "Virtio", "SharedMemory", "CSystemShims"],
      swiftSettings: strict),
    // rpmsg-echo as a native firmware in Swift (announces rpmsg-client-sample and rpmsg-tty).
    .executableTarget(
      name: "rpmsg-echo-remote", dependencies: ["RemoteprocRemote", "RPMsg"], swiftSettings: strict),

    // Unicorn 2.0.1 (Debian libunicorn-dev), found by pkg-config, with non-variadic wrappers.
    .systemLibrary(
      name: "CUnicorn", pkgConfig: "unicorn", providers: [.apt(["libunicorn-dev"])]),
    // Every pointer Unicorn needs, behind an integer-only API: engines, hooks, the run loop.
    .target(
      name: "CRemoteprocEmulatedShims", dependencies: ["CUnicorn"],
      cSettings: [.headerSearchPath("../CUnicorn")],
      linkerSettings: [.linkedLibrary("unicorn"), .linkedLibrary("pthread")]),
    // Remote cores emulated with Unicorn: MIPS32 (LE/BE), RV32IMAC, Cortex-M4, each on an
    // owner thread that may be pinned to CPUs taken from the host.
    .target(
      name: "RemoteprocEmulated",
      dependencies: ["CRemoteprocEmulatedShims", "CUnicorn", "SharedMemory", "Firmware", "Remoteproc", "HostCPUs"],
      swiftSettings: strict),

    .testTarget(name: "SharedMemoryTests", dependencies: ["SharedMemory"], swiftSettings: strict),
    .testTarget(name: "VirtioTests", dependencies: ["Virtio", "CRemoteprocWire"], swiftSettings: strict),
    .testTarget(
      name: "RemoteprocVirtioTests",
      dependencies: ["RemoteprocVirtio", "RemoteprocTesting", "Remoteproc", "Firmware", "RPMsg",
                     "RPMsgDrivers", "Virtio", "SharedMemory"],
      swiftSettings: strict),
    .testTarget(name: "RPMsgDriversTests", dependencies: ["RPMsgDrivers", "RPMsg"], swiftSettings: strict),
    .testTarget(
      name: "VirtioSerialTests", dependencies: ["VirtioSerial", "Virtio", "SharedMemory"],
      swiftSettings: strict),
    .testTarget(
      name: "RPMsgTests", dependencies: ["RPMsg", "Virtio", "SharedMemory", "CRemoteprocWire"],
      swiftSettings: strict),
    .testTarget(
      name: "FirmwareTests", dependencies: ["Firmware", "SharedMemory", "CRemoteprocWire"],
      exclude: ["Fixtures"], swiftSettings: strict),
    .testTarget(
      name: "RemoteprocTests", dependencies: ["Remoteproc", "RemoteprocTesting", "Firmware", "SharedMemory"],
      swiftSettings: strict),
    .testTarget(name: "SysfsFilesystemTests", dependencies: ["SysfsFilesystem"], swiftSettings: strict),
    .testTarget(name: "PacketCaptureTests", dependencies: ["PacketCapture"], swiftSettings: strict),
    .testTarget(name: "DaemonConfigurationTests", dependencies: ["DaemonConfiguration"], swiftSettings: strict),
    .testTarget(name: "PseudoTerminalTests", dependencies: ["PseudoTerminal", "SharedMemory"], swiftSettings: strict),
    .testTarget(
      name: "RprocdTests",
      dependencies: [
        "RprocdService", "RprocdClient", "RprocdProtocol", "DaemonConfiguration", "PacketCapture", "RPMsg",
        "Remoteproc", "RemoteprocProcess", "RemoteprocEmulated", "RemoteprocHost", "RemoteprocTesting", "rproc", "rpmsg",
        "rprocd",
      ],
      swiftSettings: strict),
    // Runs the built `rproc` executable as a user would.
    .testTarget(name: "CLITests", dependencies: ["rproc"], swiftSettings: strict),
    .testTarget(
      name: "RemoteprocProcessTests",
      dependencies: [
        "RemoteprocProcess", "RemoteprocNative", "RemoteprocRemote", "RemoteprocVirtio", "Remoteproc", "Firmware",
        "RPMsg", "SharedMemory", "CRemoteprocWire", "RemoteprocTesting",
      ],
      swiftSettings: strict),
    .testTarget(
      name: "RemoteprocOpenAMPTests",
      dependencies: [
        "RemoteprocOpenAMP", "RemoteprocVirtio", "Remoteproc", "RPMsg", "RPMsgDrivers", "Firmware", "Virtio",
        "SharedMemory", "CSystemShims",
      ],
      swiftSettings: strict),
    .testTarget(
      name: "RemoteprocEmulatedTests",
      dependencies: ["RemoteprocEmulated", "SharedMemory", "CRemoteprocWire", "Firmware", "RemoteprocBenchmarks", "Remoteproc",
                     "RemoteprocVirtio", "VirtioSerial", "RPMsg", "RPMsgDrivers", "Virtio", "RemoteprocTesting"],
      swiftSettings: strict),
  ],
  swiftLanguageModes: [.v6]
)
