import Foundation
import SharedMemory
import Testing

@Suite struct SharedMappingTests {
  @Test func anonymousMemoryStartsZeroed() throws {
    let mapping = try SharedMapping.anonymous(count: 3 * SharedMapping.pageSize)
    #expect(mapping.count == 3 * SharedMapping.pageSize)
    #expect(try mapping.region.bytes(at: 0, count: 64) == [UInt8](repeating: 0, count: 64))
    #expect(mapping.region.hostAddress % UInt(SharedMapping.pageSize) == 0)
  }

  @Test(arguments: [0, -5, 1 << 41])
  func unusableSizesAreRefused(size: Int) {
    #expect(throws: SharedMemoryError.self) { try SharedMapping.anonymous(count: size) }
    #expect(throws: SharedMemoryError.self) { try SharedMapping.memfd(name: "x", count: size) }
  }

  @Test func memfdIsVisibleThroughASecondMapping() throws {
    let first = try SharedMapping.memfd(name: "rproc-test", count: 8192)
    let descriptor = try #require(first.fileDescriptor)
    let second = try SharedMapping.file(
      descriptor: descriptor, count: 8192, takingOwnership: false)
    #expect(first.region.hostAddress != second.region.hostAddress)
    try first.region.store(UInt32(0xCAFE_F00D), at: 4096, order: .little)
    #expect(try second.region.load(UInt32.self, at: 4096, order: .little) == 0xCAFE_F00D)
  }

  @Test func mappingAFileLargerThanItIsRefused() throws {
    let mapping = try SharedMapping.memfd(name: "small", count: 4096)
    #expect(throws: SharedMemoryError.self) {
      try SharedMapping.file(descriptor: mapping.fileDescriptor!, count: 8192, takingOwnership: false)
    }
  }

  @Test func fileByPathIsCreatedAndShared() throws {
    let path = NSTemporaryDirectory() + "rproc-shm-\(getpid())"
    defer { try? FileManager.default.removeItem(atPath: path) }
    let writer = try SharedMapping.file(path: path, count: 4096, create: true)
    try writer.region.write(Array("hello".utf8), at: 0)
    let reader = try SharedMapping.file(path: path, count: 4096)
    #expect(try reader.region.bytes(at: 0, count: 5) == Array("hello".utf8))
    #expect(throws: SharedMemoryError.self) { try SharedMapping.file(path: path + ".missing", count: 4096) }
  }

  @Test func regionKeepsItsMappingAlive() throws {
    var region: MemoryRegion?
    do {
      let mapping = try SharedMapping.anonymous(count: 4096)
      region = mapping.region
    }
    try region!.store(UInt32(1), at: 0, order: .little)  // would fault if unmapped
    #expect(try region!.load(UInt32.self, at: 0, order: .little) == 1)
  }

  @Test func futexWakesAWaiterInAnotherThread() async throws {
    let mapping = try SharedMapping.anonymous(count: 4096)
    let region = mapping.region
    try region.store(UInt32(0), at: 0, order: .host)
    #expect(try region.futexWait(at: 0, expected: 1) == .valueChanged)
    #expect(try region.futexWait(at: 0, expected: 0, timeoutNanoseconds: 1_000_000) == .timedOut)
    let waiter = Thread {
      while (try? region.load(UInt32.self, at: 0, order: .host)) == 0 {
        _ = try? region.futexWait(at: 0, expected: 0, timeoutNanoseconds: 1_000_000_000)
      }
      _ = try? region.fetchAdd(10, at: 4)
    }
    waiter.start()
    try await Task.sleep(for: .milliseconds(20))
    _ = try region.exchange(1, at: 0)
    try region.futexWake(at: 0)
    var spins = 0
    while try region.load(UInt32.self, at: 4, order: .host) != 10, spins < 2000 {
      try await Task.sleep(for: .milliseconds(1))
      spins += 1
    }
    #expect(try region.load(UInt32.self, at: 4, order: .host) == 10)
  }
}
