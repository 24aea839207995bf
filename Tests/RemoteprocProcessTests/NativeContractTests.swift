import CRemoteprocWire
import Foundation
import RemoteprocNative
import SharedMemory
import Synchronization
import Testing

/// The Swift side of the native contract is the C header's, number for number.
@Suite struct NativeContractTests {
  @Test func layoutMatchesTheHeader() {
    #expect(NativeLayout.magic == RPROC_NATIVE_MAGIC)
    #expect(NativeLayout.version == RPROC_NATIVE_VERSION)
    #expect(NativeLayout.environmentVariable == RPROC_NATIVE_ENV_FD)
    #expect(NativeLayout.deviceAddressBase == UInt64(RPROC_NATIVE_DA_BASE))
    #expect(NativeLayout.maximumSize == Int(RPROC_NATIVE_MAX_SIZE))
    #expect(NativeLayout.pageSize == Int(RPROC_NATIVE_PAGE_SIZE))
    #expect(NativeLayout.tableOffset == Int(RPROC_NATIVE_TABLE_OFFSET))
    #expect(NativeLayout.tableSize == Int(RPROC_NATIVE_TABLE_SIZE))
    #expect(NativeLayout.traceOffset == Int(RPROC_NATIVE_TRACE_OFFSET))
    #expect(NativeLayout.traceSize == Int(RPROC_NATIVE_TRACE_SIZE))
    #expect(NativeLayout.poolOffset == Int(RPROC_NATIVE_POOL_OFFSET))
    #expect(NativeLayout.traceDeviceAddress == UInt64(RPROC_NATIVE_TRACE_DA))
    #expect(NativeLayout.kickAnyBit == RPROC_NATIVE_KICK_ANY)
  }

  @Test func controlPageOffsetsMatchTheHeader() {
    typealias O = NativeLayout.Offset
    let pairs: [(Int, UInt32)] = [
      (O.version, RPROC_NATIVE_OFF_VERSION), (O.size, RPROC_NATIVE_OFF_SIZE),
      (O.deviceBase, RPROC_NATIVE_OFF_DEVICE_BASE), (O.tableOffset, RPROC_NATIVE_OFF_TABLE_OFFSET),
      (O.tableSize, RPROC_NATIVE_OFF_TABLE_SIZE), (O.traceOffset, RPROC_NATIVE_OFF_TRACE_OFFSET),
      (O.traceSize, RPROC_NATIVE_OFF_TRACE_SIZE), (O.poolOffset, RPROC_NATIVE_OFF_POOL_OFFSET),
      (O.mode, RPROC_NATIVE_OFF_MODE), (O.spinNanoseconds, RPROC_NATIVE_OFF_SPIN_NS),
      (O.watchdogMilliseconds, RPROC_NATIVE_OFF_WATCHDOG_MS), (O.hostEpoch, RPROC_NATIVE_OFF_HOST_EPOCH),
      (O.toRemote, RPROC_NATIVE_OFF_TO_REMOTE), (O.toHost, RPROC_NATIVE_OFF_TO_HOST),
      (O.doorbellPending, RPROC_NATIVE_DOORBELL_PENDING), (O.doorbellWaiting, RPROC_NATIVE_DOORBELL_WAITING),
      (O.remoteEpoch, RPROC_NATIVE_OFF_REMOTE_EPOCH), (O.remotePID, RPROC_NATIVE_OFF_REMOTE_PID),
      (O.heartbeat, RPROC_NATIVE_OFF_HEARTBEAT), (O.abortCode, RPROC_NATIVE_OFF_ABORT_CODE),
      (O.abortPC, RPROC_NATIVE_OFF_ABORT_PC), (O.abortSet, RPROC_NATIVE_OFF_ABORT_SET),
      (O.controlSize, RPROC_NATIVE_CONTROL_SIZE),
    ]
    for (swift, c) in pairs { #expect(swift == Int(c)) }
    #expect(MemoryLayout<rproc_native_control>.size == O.controlSize)
    #expect(MemoryLayout<rproc_native_doorbell>.size == 64)
  }

  @Test func aFreshPageValidatesAndEveryWrongFactIsNamed() throws {
    let mapping = try SharedMapping.anonymous(count: NativeLayout.pageSize)
    let page = try NativeControlPage(region: mapping.region)
    try page.initialize(size: 0x10000, tableSize: 100, mode: .adaptive(spinNanoseconds: 7), watchdogMilliseconds: 9, epoch: 3)
    try page.validate(size: 0x10000)
    #expect(try page.mode == .adaptive(spinNanoseconds: 7))
    #expect(try page.watchdogMilliseconds == 9)
    #expect(try page.hostEpoch == 3)
    #expect(try page.tableSize == 100)
    #expect(throws: NativeError.self) { try page.validate(size: 0x20000) }
    for (offset, name) in [(0, "magic"), (4, "version"), (0x10, "table_offset"), (0x20, "pool_offset")] {
      try page.initialize(size: 0x10000, tableSize: 100, mode: .sleep, watchdogMilliseconds: 0, epoch: 1)
      try mapping.region.store(UInt32(0xDEAD), at: offset, order: .host)
      let error = try #require(throws: NativeError.self) { try page.validate(size: 0x10000) }
      #expect(error.code == .badContract)
      #expect(error.message.contains(name))
    }
  }

  @Test func aPageTooSmallIsRefused() throws {
    let mapping = try SharedMapping.anonymous(count: 64)
    #expect(throws: NativeError.self) { try NativeControlPage(region: mapping.region) }
  }
}

/// The doorbell protocol, with the receiver on another thread of this process.
@Suite struct NativeDoorbellTests {
  func page() throws -> (SharedMapping, NativeControlPage) {
    let mapping = try SharedMapping.anonymous(count: NativeLayout.pageSize)
    let page = try NativeControlPage(region: mapping.region)
    try page.initialize(size: 0x10000, tableSize: 0, mode: .sleep, watchdogMilliseconds: 0, epoch: 1)
    return (mapping, page)
  }

  @Test func bitsPerNotifyIDAndOneForTheRest() {
    #expect(NativeDoorbell.bit(for: 0) == 1)
    #expect(NativeDoorbell.bit(for: 30) == 1 << 30)
    #expect(NativeDoorbell.bit(for: 31) == 1 << 31)
    #expect(NativeDoorbell.bit(for: 4000) == 1 << 31)
  }

  @Test func kicksAccumulateUntilTakenWithoutWakingAnyone() throws {
    let (mapping, page) = try page()
    _ = mapping
    let bell = page.toRemote
    #expect(try bell.ring(notifyID: 1) == false)  // nobody sleeps: no system call
    #expect(try bell.ring(notifyID: 3) == false)
    #expect(try bell.isPending())
    #expect(try bell.take() == 0b1010)
    #expect(try bell.take() == 0)
    #expect(try bell.wait(mode: .sleep, timeoutNanoseconds: 1_000_000) == 0)  // times out
  }

  @Test(arguments: [DoorbellMode.sleep, .adaptive(spinNanoseconds: 20_000)])
  func aSleepingReceiverIsWokenByEveryKick(mode: DoorbellMode) throws {
    let (mapping, page) = try page()
    let received = Atomic<Int>(0)
    let finished = Atomic<Bool>(false)
    let rounds = 2000
    let receiver = Thread {
      var got = 0
      while got < rounds {
        guard let bits = try? page.toRemote.wait(mode: mode) else { break }
        got += bits.nonzeroBitCount
        received.store(got, ordering: .releasing)
        _ = try? page.toHost.ring(notifyID: 0)
      }
      finished.store(true, ordering: .releasing)
      _ = mapping
    }
    receiver.start()
    for round in 0..<rounds {
      try page.toRemote.ring(notifyID: 5)
      // Ping-pong: wait for the answer, so every kick finds the receiver asleep or spinning.
      while try page.toHost.wait(mode: mode, timeoutNanoseconds: 5_000_000_000) == 0 {
        Issue.record("no answer to kick \(round)")
        return
      }
    }
    while !finished.load(ordering: .acquiring) { usleep(100) }
    #expect(received.load(ordering: .acquiring) == rounds)
  }
}
