import RemoteprocEmulated
import SharedMemory
import Testing

@Suite struct EmulatedMachineTests {
  @Test func mipsDeviceAddressesReachTheSamePhysicalMemory() throws {
    for machine in [EmulatedMachine.mips32, .mips32BigEndian] {
      #expect(machine.physicalAddress(forDeviceAddress: 0x8000_1000, length: 16) == 0x1000)  // kseg0
      #expect(machine.physicalAddress(forDeviceAddress: 0xA000_1000, length: 16) == 0x1000)  // kseg1
      #expect(machine.physicalAddress(forDeviceAddress: 0x0000_1000, length: 16) == 0x1000)  // kuseg
      #expect(machine.physicalAddress(forDeviceAddress: 0x0100_0000, length: 4096) == 0x0100_0000)
      // Past the 64 MiB of memory, and straddling its end.
      #expect(machine.physicalAddress(forDeviceAddress: 0x8400_0000, length: 4) == nil)
      #expect(machine.physicalAddress(forDeviceAddress: 0x83FF_FFFE, length: 4) == nil)
      #expect(machine.physicalAddress(forDeviceAddress: 0x1000, length: -1) == nil)
    }
  }

  @Test func everyShippedMachineIsValidAndFoundByName() throws {
    for machine in EmulatedMachine.all {
      try machine.validate()
      #expect(EmulatedMachine.named(machine.name) == machine)
      #expect(machine.memory.contains { $0.usage.contains(.carveouts) })
    }
    #expect(EmulatedMachine.named("x86") == nil)
  }

  @Test func machinesAreInferredFromTheELFIdentity() {
    #expect(EmulatedMachine.forELF(machine: 8, dataEncoding: 1) == .mips32)
    #expect(EmulatedMachine.forELF(machine: 8, dataEncoding: 2) == .mips32BigEndian)
    #expect(EmulatedMachine.forELF(machine: 243, dataEncoding: 1) == .riscv32)
    #expect(EmulatedMachine.forELF(machine: 40, dataEncoding: 1) == .cortexM4)
    #expect(EmulatedMachine.forELF(machine: 62, dataEncoding: 1) == nil)
    #expect(EmulatedMachine.forELF(machine: 243, dataEncoding: 2) == nil)
  }

  @Test func overlappingOrUnalignedWindowsAreRefused() {
    var machine = EmulatedMachine.riscv32
    machine.memory[1].physicalAddress = machine.memory[0].physicalAddress + 4096
    #expect(throws: EmulationError.self) { try machine.validate() }
    machine = .riscv32
    machine.memory[0].size = 1000
    #expect(throws: EmulationError.self) { try machine.validate() }
    machine.memory = []
    #expect(throws: EmulationError.self) { try machine.validate() }
  }

  @Test func coreMemoryIsTheSameBytesThroughEveryAlias() throws {
    let core = try EmulatedCore(machine: .mips32BigEndian)
    let cached = try #require(core.memory(forDeviceAddress: 0x8000_2000, length: 8))
    let uncached = try #require(core.memory(forDeviceAddress: 0xA000_2000, length: 8))
    try cached.store(UInt32(0x1234_5678), at: 4, order: .big)
    #expect(try uncached.load(UInt32.self, at: 4, order: .big) == 0x1234_5678)
    #expect(core.memory(forDeviceAddress: 0x9000_0000, length: 4) == nil)
    #expect(core.carveoutWindows.map(\.name) == ["carveouts"])
  }
}
