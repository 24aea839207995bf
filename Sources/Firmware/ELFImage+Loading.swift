import SharedMemory

extension ELFImage {
  /// Copies every loadable segment to its device address and zero-fills the tail from
  /// `p_filesz` to `p_memsz`. Linux: `rproc_elf_load_segments`.
  ///
  /// - Parameter memory: Linux's `da_to_va`: the memory backing `length` bytes at a device
  ///   address, or nil when nothing covers the whole range. The region it returns must be
  ///   at least `length` bytes; bytes are written from its start.
  public func loadSegments(
    into memory: (_ deviceAddress: UInt64, _ length: Int) -> MemoryRegion?
  ) throws(FirmwareError) {
    for segment in loadableSegments {
      let length = Int(segment.memorySize)
      guard let region = memory(segment.physicalAddress, length), region.count >= length else {
        throw FirmwareError(
          .addressNotMapped,
          "segment \(segment.index): no memory covers da \(hex(segment.physicalAddress)) length \(hex(length))")
      }
      let fileBytes = Int(segment.fileSize)
      let start = Int(segment.fileOffset)
      do {
        try region.write(bytes.span.extracting(start..<start + fileBytes), at: 0)
        try region.fill(0, at: fileBytes, count: length - fileBytes)
      } catch {
        // Unreachable: the region was checked to hold `length` bytes.
        throw FirmwareError(.addressNotMapped, "segment \(segment.index): \(error.message)")
      }
    }
  }
}
