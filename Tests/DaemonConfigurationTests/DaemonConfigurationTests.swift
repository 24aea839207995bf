import DaemonConfiguration
import Foundation
import Testing

@Suite struct DaemonConfigurationTests {
  static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent()
  static let cpus = CPUSet(0..<4)

  static func toml(_ text: String) throws(ConfigurationError) -> DaemonConfiguration {
    try DaemonConfiguration.parse(text, format: .toml, file: "test.toml", baseDirectory: "/etc/rprocd", availableCPUs: cpus)
  }

  static func yaml(_ text: String) throws(ConfigurationError) -> DaemonConfiguration {
    try DaemonConfiguration.parse(text, format: .yaml, file: "test.yaml", baseDirectory: "/etc/rprocd", availableCPUs: cpus)
  }

  /// The error `body` throws, or nil.
  static func refusal(_ body: () throws(ConfigurationError) -> DaemonConfiguration) -> ConfigurationError? {
    do {
      _ = try body()
      return nil
    } catch {
      return error
    }
  }

  static let minimal = """
    [processor.remoteproc0]
    platform = "emulated"
    machine = "mips32"
    firmware = "case-invert-mips32.elf"
    """

  @Test func theShippedExampleDeclaresTheMIPSCore() throws {
    let path = Self.root.appendingPathComponent("examples/rprocd.toml").path
    let configuration = try DaemonConfiguration.load(path: path, availableCPUs: Self.cpus)
    let processor = try #require(configuration.processors.first)
    #expect(configuration.processors.count == 1)
    #expect(processor.deviceName == "remoteproc0")
    #expect(processor.index == 0)
    #expect(processor.platform == .emulated)
    #expect(processor.machine == .mips32)
    #expect(processor.firmware == "case-invert-mips32.elf")
    #expect(processor.firmwareDirectory == Self.root.appendingPathComponent("firmware/build").standardizedFileURL.path)
    #expect(processor.autoBoot == false)
    #expect(processor.legacyZeroVringAddress)
    #expect(processor.onExit == .stop)
  }

  @Test func defaultsFollowLinux() throws {
    let processor = try #require(try Self.toml(Self.minimal).processors.first)
    #expect(processor.name == "mips32")
    #expect(processor.firmwareDirectory == "/lib/firmware")
    #expect(processor.autoBoot == false)
    #expect(processor.recovery == .enabled)
    #expect(processor.coredump == .disabled)
    #expect(processor.onExit == .stop)
    #expect(processor.legacyZeroVringAddress == false)
    #expect(processor.cpus == nil)
    #expect(processor.memory == [])
  }

  static let full = """
    # two processors, every key
    [processor.remoteproc1]
    name = "m4"
    platform = "emulated"
    machine = "cortex-m4"
    cpus = "1"
    firmware-directory = "firmware"
    firmware = "rpmsg-echo.elf"
    auto-boot = true
    recovery = "disabled"
    coredump = "inline"
    on-exit = "stop"
    legacy-zero-vring-address = false

    [[processor.remoteproc1.memory]]
    name = "ddr"
    device-address = 0x8000_0000
    size = 0x10_0000

    [[processor.remoteproc1.memory]]
    name = "sram"
    device-address = 0x2000_0000
    size = 0x1000
    kind = "fixed"

    [processor.remoteproc0]
    platform = "process"
    cpus = "2-3"
    firmware = "echo-x86_64"
    on-exit = "detach"
    """

  static let fullYAML = """
    # two processors, every key
    processor:
      remoteproc1:
        name: m4
        platform: emulated
        machine: cortex-m4
        cpus: 1
        firmware-directory: firmware
        firmware: rpmsg-echo.elf
        auto-boot: true
        recovery: disabled
        coredump: inline
        on-exit: stop
        legacy-zero-vring-address: false
        memory:
          - { name: ddr, device-address: 0x80000000, size: 0x100000 }
          - name: sram
            device-address: 0x20000000
            size: 4096
            kind: fixed
      remoteproc0:
        platform: process
        cpus: "2-3"
        firmware: echo-x86_64
        on-exit: detach
    """

  @Test func everyKeyIsReadAndTOMLAndYAMLAgree() throws {
    let configuration = try Self.toml(Self.full)
    #expect(configuration.processors.map(\.deviceName) == ["remoteproc0", "remoteproc1"])
    let process = configuration.processors[0]
    #expect(process.platform == .process)
    #expect(process.machine == nil)
    #expect(process.name == "process")
    #expect(process.cpus?.cpus == [2, 3])
    #expect(process.onExit == .detach)
    let m4 = configuration.processors[1]
    #expect(m4.name == "m4")
    #expect(m4.machine == .cortexM4)
    #expect(m4.cpus?.cpus == [1])
    #expect(m4.firmwareDirectory == "/etc/rprocd/firmware")
    #expect(m4.autoBoot)
    #expect(m4.recovery == .disabled)
    #expect(m4.coredump == .inline)
    #expect(m4.memory == [
      MemoryWindowConfiguration(name: "ddr", deviceAddress: 0x8000_0000, size: 0x10_0000, kind: .pool),
      MemoryWindowConfiguration(name: "sram", deviceAddress: 0x2000_0000, size: 0x1000, kind: .fixed),
    ])
    #expect(try Self.yaml(Self.fullYAML) == configuration)
  }

  @Test func processorsAreOrderedByNumber() throws {
    let text = ["remoteproc10", "remoteproc2", "remoteproc0"].map {
      "[processor.\($0)]\nplatform = \"emulated\"\nmachine = \"rv32\"\nfirmware = \"a.elf\"\n"
    }.joined()
    #expect(try Self.toml(text).processors.map(\.index) == [0, 2, 10])
  }

  // MARK: Malformed files name the line and column

  @Test func aTOMLSyntaxErrorNamesLineAndColumn() {
    let error = Self.refusal { () throws(ConfigurationError) in
      try Self.toml("[processor.remoteproc0]\nplatform = \"emulated\nmachine = \"mips32\"\n")
    }
    #expect(error?.code == .syntax)
    #expect(error?.line == 2)
    #expect(error?.column != nil)
    #expect(error?.description.hasPrefix("test.toml:2:") == true)
  }

  @Test func aYAMLSyntaxErrorNamesLineAndColumn() {
    let error = Self.refusal { () throws(ConfigurationError) in
      try Self.yaml("processor:\n  remoteproc0:\n    platform: emulated\n   machine: [mips32\n")
    }
    #expect(error?.code == .syntax)
    #expect(error?.line == 4)
    #expect(error?.column != nil)
  }

  @Test func duplicateYAMLKeysAreRefused() {
    let error = Self.refusal { () throws(ConfigurationError) in
      try Self.yaml("processor:\n  remoteproc0:\n    platform: emulated\n    platform: process\n")
    }
    #expect(error?.code == .syntax)
    #expect(error?.message.contains("duplicate key platform") == true)
  }

  // MARK: Unknown keys

  @Test func aMisspeltKeyIsRefusedWithItsLineAndASuggestion() {
    let error = Self.refusal { () throws(ConfigurationError) in
      try Self.toml(Self.minimal + "\ncpuz = \"1\"\n")
    }
    #expect(error?.code == .unknownKey)
    #expect(error?.key == "processor.remoteproc0.cpuz")
    #expect(error?.line == 5)
    #expect(error?.column == 1)
    #expect(error?.message.contains("did you mean cpus?") == true)
  }

  @Test func anUnknownKeyInTheSecondWindowIsFound() {
    let text = Self.minimal + """

      [[processor.remoteproc0.memory]]
      name = "a"
      device-address = 0
      size = 4096

      [[processor.remoteproc0.memory]]
      name = "b"
      device-address = 4096
        sise = 4096
      """
    let error = Self.refusal { () throws(ConfigurationError) in try Self.toml(text) }
    #expect(error?.code == .unknownKey)
    #expect(error?.key == "processor.remoteproc0.memory[1].sise")
    #expect(error?.line == 13)
    #expect(error?.column == 3)
    #expect(error?.message.contains("did you mean size?") == true)
  }

  @Test func anUnknownKeyInYAMLHasLineAndColumn() {
    let error = Self.refusal { () throws(ConfigurationError) in
      try Self.yaml("processor:\n  remoteproc0:\n    platform: emulated\n    autoboot: true\n")
    }
    #expect(error?.code == .unknownKey)
    #expect(error?.key == "processor.remoteproc0.autoboot")
    #expect(error?.line == 4)
    #expect(error?.column == 5)
    #expect(error?.message.contains("did you mean auto-boot?") == true)
  }

  @Test func anUnknownTopLevelKeyIsRefused() {
    let error = Self.refusal { () throws(ConfigurationError) in try Self.toml("processors = 1\n" + Self.minimal) }
    #expect(error?.code == .unknownKey)
    #expect(error?.key == "processors")
    #expect(error?.line == 1)
  }

  // MARK: Values

  @Test func missingKeysPointAtTheProcessor() {
    let error = Self.refusal { () throws(ConfigurationError) in
      try Self.toml("# comment\n[processor.remoteproc0]\nmachine = \"mips32\"\nfirmware = \"a.elf\"\n")
    }
    #expect(error?.code == .missingKey)
    #expect(error?.key == "processor.remoteproc0.platform")
    #expect(error?.line == 2)
    #expect(Self.refusal { () throws(ConfigurationError) in try Self.toml("") }?.code == .missingKey)
  }

  @Test(arguments: [
    ("auto-boot = \"no\"", "processor.remoteproc0.auto-boot", "expected true or false, found the string \"no\""),
    ("recovery = \"maybe\"", "processor.remoteproc0.recovery", "\"maybe\" is not one of \"enabled\", \"disabled\""),
    ("coredump = \"full\"", "processor.remoteproc0.coredump", "\"full\" is not one of \"disabled\", \"enabled\", \"inline\""),
    ("on-exit = \"detach\"", "processor.remoteproc0.on-exit", "an emulated core lives in the daemon"),
    ("name = 7", "processor.remoteproc0.name", "expected a string, found the integer 7"),
    ("legacy-zero-vring-address = 1.5", "processor.remoteproc0.legacy-zero-vring-address", "found the float 1.5"),
  ])
  func badValuesAreRefusedWithTheReason(line: String, key: String, reason: String) {
    let error = Self.refusal { () throws(ConfigurationError) in try Self.toml(Self.minimal + "\n" + line + "\n") }
    #expect(error?.code == .invalidValue)
    #expect(error?.key == key)
    #expect(error?.line == 5)
    #expect(error?.message.contains(reason) == true, "\(error?.message ?? "")")
  }

  @Test(arguments: [
    ("[processor.rproc0]\nplatform = \"emulated\"", "named remoteprocN"),
    ("[processor.remoteproc01]\nplatform = \"emulated\"", "named remoteprocN"),
    ("[processor.remoteproc0]\nplatform = \"process\"\nmachine = \"mips32\"\nfirmware = \"a\"", "emulated cores only"),
    ("[processor.remoteproc0]\nplatform = \"emulated\"\nmachine = \"z80\"\nfirmware = \"a\"", "\"z80\" is not one of"),
    ("[processor.remoteproc0]\nplatform = \"emulated\"\nmachine = \"rv32\"\nfirmware = \"../x.elf\"", "inside firmware-directory"),
    ("[processor.remoteproc0]\nplatform = \"emulated\"\nmachine = \"rv32\"\nfirmware = \"/lib/x.elf\"", "inside firmware-directory"),
    ("processor = 3", "expected a table of processors"),
  ])
  func badProcessorsAreRefused(text: String, reason: String) {
    let error = Self.refusal { () throws(ConfigurationError) in try Self.toml(text) }
    #expect(error?.message.contains(reason) == true, "\(error?.description ?? "accepted")")
  }

  static let minimalProcess = """
    [processor.remoteproc0]
    platform = "process"
    firmware = "rpmsg-echo-native.elf"
    """

  @Test func processSettingsAreReadWithDefaults() throws {
    let plain = try #require(try Self.toml(Self.minimalProcess).processors.first?.process)
    #expect(plain == ProcessSettings(doorbell: .sleep, memorySize: 1 << 20, watchdogMilliseconds: nil, stateDirectory: nil))
    let set = try #require(
      try Self.toml(Self.minimalProcess + "\ndoorbell = \"adaptive\"\nmemory-size = 0x4_0000\nwatchdog-ms = 500\nstate-directory = \"state\"\n")
        .processors.first?.process)
    #expect(set == ProcessSettings(doorbell: .adaptive, memorySize: 0x40000, watchdogMilliseconds: 500, stateDirectory: "/etc/rprocd/state"))
    #expect(try Self.toml(Self.minimal).processors.first?.process == nil)
  }

  @Test(arguments: [
    ("memory-size = 0x1234", "processor.remoteproc0.memory-size", "memory-size 0x1234: it must be a multiple of 0x1000 in 0x5000...0x80000000"),
    ("memory-size = 0x1000", "processor.remoteproc0.memory-size", "memory-size 0x1000: it must be a multiple"),
    ("memory-size = 0x1_0000_0000", "processor.remoteproc0.memory-size", "memory-size 0x100000000"),
    ("doorbell = \"spin\"", "processor.remoteproc0.doorbell", "\"spin\" is not one of \"sleep\", \"adaptive\""),
    ("watchdog-ms = 5", "processor.remoteproc0.watchdog-ms", "watchdog-ms 5: it must be in 10...3600000"),
    ("state-directory = \"\"", "processor.remoteproc0.state-directory", "must be a folder path"),
    ("[[processor.remoteproc0.memory]]\nname = \"w\"\ndevice-address = 0\nsize = 0x1000", "processor.remoteproc0.memory", "size it with memory-size"),
  ])
  func badProcessSettingsAreRefused(line: String, key: String, reason: String) {
    let error = Self.refusal { () throws(ConfigurationError) in try Self.toml(Self.minimalProcess + "\n" + line + "\n") }
    #expect(error?.code == .invalidValue)
    #expect(error?.key == key)
    #expect(error?.message.contains(reason) == true, "\(error?.description ?? "accepted")")
  }

  @Test(arguments: ["doorbell = \"sleep\"", "memory-size = 0x10000", "watchdog-ms = 100", "state-directory = \"/run/x\""])
  func processSettingsAreRefusedOnAnEmulatedCore(line: String) {
    let error = Self.refusal { () throws(ConfigurationError) in try Self.toml(Self.minimal + "\n" + line + "\n") }
    #expect(error?.code == .invalidValue)
    #expect(error?.message.contains("applies to process cores only") == true, "\(error?.description ?? "accepted")")
  }

  @Test(arguments: [
    ("device-address = 0x8000_0100\nsize = 0x1000", "multiples of 4 KiB"),
    ("device-address = 0xFFFF_F000\nsize = 0x2000", "ends past the 32-bit device address space"),
    ("device-address = 0x8000_0000\nsize = 0", "multiples of 4 KiB"),
    ("device-address = -4096\nsize = 4096", "non-negative integer"),
  ])
  func badWindowsAreRefused(fields: String, reason: String) {
    let error = Self.refusal { () throws(ConfigurationError) in
      try Self.toml(Self.minimal + "\n[[processor.remoteproc0.memory]]\nname = \"w\"\n" + fields + "\n")
    }
    #expect(error?.code == .invalidValue)
    #expect(error?.message.contains(reason) == true, "\(error?.description ?? "accepted")")
  }

  @Test func overlappingOrSameNamedWindowsAreRefused() {
    func windows(_ second: String) -> ConfigurationError? {
      Self.refusal { () throws(ConfigurationError) in
        try Self.toml(Self.minimal + """

          [[processor.remoteproc0.memory]]
          name = "ddr"
          device-address = 0x8000_0000
          size = 0x2000
          [[processor.remoteproc0.memory]]
          \(second)
          """)
      }
    }
    #expect(windows("name = \"sram\"\ndevice-address = 0x8000_1000\nsize = 0x1000")?.message.contains("overlaps window ddr") == true)
    #expect(windows("name = \"ddr\"\ndevice-address = 0x9000_0000\nsize = 0x1000")?.message.contains("two windows are named ddr") == true)
    #expect(windows("name = \"sram\"\ndevice-address = 0x8000_2000\nsize = 0x1000") == nil)
  }

  // MARK: CPUs

  @Test(arguments: ["", "1-", "-1", "a", "3-1", "1,,2", "0-7:2/4", " 1", "1 ", "+1", "99999999"])
  func badCPUListsAreRefusedWithTheReason(list: String) {
    let error = Self.refusal { () throws(ConfigurationError) in
      try Self.toml(Self.minimal + "\ncpus = \"\(list)\"\n")
    }
    #expect(error?.code == .invalidValue)
    #expect(error?.key == "processor.remoteproc0.cpus")
    #expect(error?.line == 5)
    #expect(error?.message.hasPrefix(list.debugDescription) == true, "\(error?.description ?? "accepted")")
  }

  @Test func aCPUThatDoesNotExistOrTakingThemAllIsRefused() {
    let missing = Self.refusal { () throws(ConfigurationError) in try Self.toml(Self.minimal + "\ncpus = \"1,7\"\n") }
    #expect(missing?.message == "CPU 7 does not exist here; this machine has CPUs 0-3")
    let all = Self.refusal { () throws(ConfigurationError) in try Self.toml(Self.minimal + "\ncpus = \"0-3\"\n") }
    #expect(all?.message.contains("leaves none for the host") == true)
  }

  @Test func cpuListsParseAsLinuxWritesThem() throws {
    #expect(try CPUSet(parsing: "2-3,5").cpus == [2, 3, 5])
    #expect(try CPUSet(parsing: "5,2-3,3").description == "2-3,5")
    #expect(try CPUSet(parsing: "0,1,2,4").description == "0-2,4")
    #expect(try CPUSet(parsing: "7").cpus == [7])
    #expect(CPUSet.present.cpus.count == ProcessInfo.processInfo.processorCount)
  }

  // MARK: Files

  @Test func theFormatComesFromTheExtension() throws {
    #expect(DaemonConfiguration.Format(path: "a.toml") == .toml)
    #expect(DaemonConfiguration.Format(path: "a.YAML") == .yaml)
    #expect(DaemonConfiguration.Format(path: "a.yml") == .yaml)
    #expect(DaemonConfiguration.Format(path: "a.json") == nil)
    let unknown = Self.refusal { () throws(ConfigurationError) in try DaemonConfiguration.load(path: "rprocd.conf") }
    #expect(unknown?.code == .unreadable)
    let missing = Self.refusal { () throws(ConfigurationError) in try DaemonConfiguration.load(path: "/nonexistent/rprocd.toml") }
    #expect(missing?.code == .unreadable)
    #expect(missing?.file == "/nonexistent/rprocd.toml")
  }
}
