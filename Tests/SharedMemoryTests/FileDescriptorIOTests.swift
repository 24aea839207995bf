import Foundation
import Glibc
import SharedMemory
import Testing

@Suite struct FileDescriptorIOTests {
  static func temporaryPath() -> String { NSTemporaryDirectory() + "fdio-\(UUID().uuidString)" }

  @Test func writeThenReadBackThroughAFile() throws {
    let path = Self.temporaryPath()
    defer { try? FileManager.default.removeItem(atPath: path) }
    let writer = try FileDescriptorIO.open(path, flags: O_WRONLY | O_CREAT | O_CLOEXEC, mode: 0o600)
    let bytes: [UInt8] = Array(0...255)
    try FileDescriptorIO.writeAll(writer, bytes)
    close(writer)
    let reader = try FileDescriptorIO.open(path, flags: O_RDONLY | O_CLOEXEC)
    defer { close(reader) }
    #expect(try FileDescriptorIO.read(reader, upTo: 100) == Array(bytes[0..<100]))
    #expect(try FileDescriptorIO.read(reader, upTo: 1000) == Array(bytes[100...]))
    #expect(try FileDescriptorIO.read(reader, upTo: 1000) == [])  // end of file
  }

  @Test func failuresCarryTheErrno() {
    #expect { try FileDescriptorIO.open("/nonexistent/file", flags: O_RDONLY) } throws: {
      ($0 as? SharedMemoryError)?.errno == ENOENT
    }
    #expect { try FileDescriptorIO.read(-1, upTo: 8) } throws: { ($0 as? SharedMemoryError)?.errno == EBADF }
    #expect { try FileDescriptorIO.write(-1, [1]) } throws: { ($0 as? SharedMemoryError)?.errno == EBADF }
    #expect { try FileDescriptorIO.read(0, upTo: -1) } throws: { ($0 as? SharedMemoryError)?.code == .invalidArgument }
    #expect { try FileDescriptorIO.unmount("/nonexistent/mount", flags: 0) } throws: {
      ($0 as? SharedMemoryError)?.errno == ENOENT
    }
  }

  @Test func stringsWithNULAreRefusedBeforeTheCall() {
    #expect { try FileDescriptorIO.open("a\0b", flags: O_RDONLY) } throws: {
      ($0 as? SharedMemoryError)?.code == .invalidArgument
    }
    #expect { try FileDescriptorIO.mount(source: "x", target: "/tmp", type: "fuse", flags: 0, options: "a\0") } throws: {
      ($0 as? SharedMemoryError)?.code == .invalidArgument
    }
  }

  @Test func errnoTextIsTheCLibrarys() {
    #expect(FileDescriptorIO.describe(errno: EINVAL) == "Invalid argument")
    #expect(FileDescriptorIO.describe(errno: EBUSY) == "Device or resource busy")
  }
}
