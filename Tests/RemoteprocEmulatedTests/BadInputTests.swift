import Firmware
import Foundation
import RemoteprocEmulated
import SharedMemory
import Testing

/// What neither side may do to the other: firmware built for another machine, and a host that
/// writes garbage into the rings the firmware reads.
@Suite(.enabled(if: FirmwareImages.canRun), .serialized)
struct BadInputTests {
  @Test func firmwareIsMatchedToItsMachineAndDoesNotLoadElsewhere() throws {
    for machine in EmulatedMachine.all {
      let image = try FirmwareImages.image("case-invert", for: machine)
      let encoding: UInt8 = image.byteOrder == .little ? 1 : 2
      #expect(EmulatedMachine.forELF(machine: image.machine.rawValue, dataEncoding: encoding) == machine)
    }
    let arm = try FirmwareImages.image("case-invert", for: .cortexM4)  // linked at 0
    let riscv = try FirmwareImages.image("case-invert", for: .riscv32)  // linked at 0x8000_0000
    let riscvCore = try EmulatedCore(machine: .riscv32)
    let armCore = try EmulatedCore(machine: .cortexM4)
    #expect(throws: FirmwareError.self) {
      try arm.loadSegments { riscvCore.memory(forDeviceAddress: $0, length: $1) }
    }
    #expect(throws: FirmwareError.self) {
      try riscv.loadSegments { armCore.memory(forDeviceAddress: $0, length: $1) }
    }
  }

  @Test func aCortexM4ImageWithoutAThumbResetVectorIsRefused() throws {
    let core = try EmulatedCore(machine: .cortexM4)
    let table = try #require(core.memory(forDeviceAddress: 0, length: 8))
    try table.store(UInt32(0x0010_0000), at: 0, order: .little)
    try table.store(UInt32(0x0000_0100), at: 4, order: .little)  // bit 0 clear: not Thumb
    #expect(throws: EmulationError.self) {
      try core.start(entry: 0x100, events: HostEvents().events)
    }
    #expect(core.state == .offline)
  }

  @Test(arguments: EmulatedMachine.all)
  func theFirmwareRefusesBadDescriptorsAndSurvives(machine: EmulatedMachine) throws {
    let host = try HandHost("case-invert", on: machine)
    try host.start()
    let port = try HostVirtio(host, ordinal: 0, bufferSize: 512, acceptedFeatures: 0)
    try host.waitForTrace("serial: up")
    // A descriptor pointing outside the machine's memory.
    try port.sendRaw(address: 0x7000_0000, length: 64)
    try host.waitForTrace("refused")
    // The port still works.
    try port.send(Array("still Here".utf8))
    eventually("the reply after the refused descriptor") {
      String(decoding: port.receivedBytes, as: UTF8.self) == "STILL hERE"
    }
    // An avail index far ahead of the ring: the firmware gives the ring up, without crashing.
    try port.corruptAvailIndex(by: 1000)
    try host.waitForTrace("ahead of")
    #expect(host.events.firstCrash == nil)
    #expect(host.core.state == .running)
    host.core.stop()
  }

  @Test func detachedDoorbellsAreHandedOverOnAttach() throws {
    let host = try HandHost("case-invert", on: .riscv32)
    try host.start()
    let port = try HostVirtio(host, ordinal: 0, bufferSize: 512, acceptedFeatures: 0)
    try host.waitForTrace("serial: up")
    host.core.detach()
    let rung = host.core.statistics.doorbells
    try port.send(Array("while detached".utf8))
    eventually("the guest's doorbell") { host.core.statistics.doorbells > rung }
    #expect(port.receivedBytes.isEmpty)  // nobody was told
    let missed = host.core.attach(events: host.events.events)
    #expect(missed.contains(port.rxNotifyID))
    port.drainRx()
    #expect(String(decoding: port.receivedBytes, as: UTF8.self) == "WHILE DETACHED")
    host.core.stop()
  }
}
