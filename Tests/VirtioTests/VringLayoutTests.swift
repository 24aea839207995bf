import CRemoteprocWire
import Testing
import Virtio

@Suite struct VringLayoutTests {
  /// Reference: include/uapi/linux/virtio_ring.h `vring_size()`.
  static func linuxVringSize(_ n: Int, _ a: Int) -> Int {
    ((16 * n + 2 * (3 + n) + a - 1) & ~(a - 1)) + 2 * 3 + 8 * n
  }

  @Test(arguments: [1, 2, 4, 16, 256, 1024, 32768], [4, 16, 64, 4096])
  func byteCountMatchesLinux(count: Int, alignment: Int) throws {
    let layout = try VringLayout(count: count, alignment: alignment)
    #expect(layout.byteCount == Self.linuxVringSize(count, alignment))
  }

  @Test func handComputedOffsets() throws {
    // num 256, align 4096: desc 4096 bytes, avail at 4096 (flags, idx, ring 512 bytes,
    // used_event at 4612), used at 8192 (vring_init), avail_event at 8192 + 4 + 2048.
    let l = try VringLayout(count: 256, alignment: 4096)
    #expect(l.descriptor(3) == 48)
    #expect(l.availFlags == 4096)
    #expect(l.availIndex == 4098)
    #expect(l.availRing(0) == 4100)
    #expect(l.availRing(257) == 4102)  // slots wrap at num
    #expect(l.usedEvent == 4612)
    #expect(l.usedFlags == 8192)
    #expect(l.usedIndex == 8194)
    #expect(l.usedRing(1) == 8204)
    #expect(l.availEvent == 10244)
    #expect(l.byteCount == 10246)  // the C header's _Static_assert for vring_size(256, 4096)
    let small = try VringLayout(count: 16, alignment: 16)
    #expect(small.usedOffset == 304)  // RPROC_VRING_USED_OFFSET(16, 16)
  }

  @Test func wireStructsHaveTheOffsetsTheLayoutUses() {
    #expect(MemoryLayout<rproc_vring_desc>.size == 16)
    #expect(MemoryLayout<rproc_vring_desc>.offset(of: \.len) == VringLayout.descriptorLength)
    #expect(MemoryLayout<rproc_vring_desc>.offset(of: \.flags) == VringLayout.descriptorFlags)
    #expect(MemoryLayout<rproc_vring_desc>.offset(of: \.next) == VringLayout.descriptorNext)
    #expect(MemoryLayout<rproc_vring_used_elem>.size == 8)
    #expect(RPROC_VRING_DESC_F_NEXT == UInt32(DescriptorFlags.next.rawValue))
    #expect(RPROC_VRING_DESC_F_WRITE == UInt32(DescriptorFlags.write.rawValue))
    #expect(RPROC_VRING_DESC_F_INDIRECT == UInt32(DescriptorFlags.indirect.rawValue))
    #expect(RPROC_VRING_AVAIL_F_NO_INTERRUPT == UInt32(vringAvailNoInterrupt))
    #expect(RPROC_VRING_USED_F_NO_NOTIFY == UInt32(vringUsedNoNotify))
  }

  @Test(arguments: [0, 3, 12, 65536, -4])
  func nonPowerOfTwoCountsAreRejected(count: Int) {
    #expect(throws: VirtioError.self) { try VringLayout(count: count, alignment: 4096) }
  }

  @Test(arguments: [0, 1, 2, 3, 100, -8])
  func badAlignmentsAreRejected(alignment: Int) {
    #expect(throws: VirtioError.self) { try VringLayout(count: 16, alignment: alignment) }
  }

  @Test func errorNamesTheNumber() {
    do {
      _ = try VringLayout(count: 12, alignment: 4096)
      Issue.record("no error")
    } catch {
      #expect(error.code == .invalidConfiguration)
      #expect(error.message == "vring num 12 is not a power of two in 1...32768")
    }
  }
}

@Suite struct VringNeedsEventTests {
  /// Reference: include/uapi/linux/virtio_ring.h, in 16-bit arithmetic as the kernel's
  /// `(__u16)(new_idx - event_idx - 1) < (__u16)(new_idx - old)`.
  static func linux(_ event: Int, _ new: Int, _ old: Int) -> Bool {
    ((new - event - 1) & 0xFFFF) < ((new - old) & 0xFFFF)
  }

  @Test func matchesTheKernelFormulaEverywhereIncludingWrapAround() {
    var checked = 0
    for old in [0, 1, 100, 0x7FFF, 0xFFFE, 0xFFFF] {
      for step in [0, 1, 2, 5, 300] {
        let new = (old + step) & 0xFFFF
        for delta in -3...305 {
          let event = (old + delta) & 0xFFFF
          #expect(vringNeedsEvent(eventIndex: UInt16(event), new: UInt16(new), old: UInt16(old))
                  == Self.linux(event, new, old))
          checked += 1
        }
      }
    }
    #expect(checked > 9000)
  }

  @Test func crossingTheEventIndexNotifies() {
    // The peer asked to hear about index 10 (event 9 means "after 9 is used").
    #expect(vringNeedsEvent(eventIndex: 9, new: 10, old: 9))
    #expect(vringNeedsEvent(eventIndex: 9, new: 12, old: 8))
    #expect(!vringNeedsEvent(eventIndex: 9, new: 9, old: 8))
    #expect(!vringNeedsEvent(eventIndex: 9, new: 14, old: 10))
    // Across the 16-bit wrap.
    #expect(vringNeedsEvent(eventIndex: 0xFFFF, new: 1, old: 0xFFFE))
    #expect(!vringNeedsEvent(eventIndex: 2, new: 1, old: 0xFFFE))
  }
}
