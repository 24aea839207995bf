import Foundation
import Testing

@Suite struct InspectCommandTests {
  @Test func jsonHasTheDocumentedKeys() throws {
    let result = try Rproc.run(["inspect", Rproc.fixture("mipsel"), "--json"])
    #expect(result.status == 0, "\(result.stderr)")
    let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
    #expect(object["class"] as? Int == 32)
    #expect(object["endianness"] as? String == "little")
    #expect(object["machine"] as? Int == 8)
    #expect(object["entry"] as? Int == 0x8000_0000)
    let segments = try #require(object["segments"] as? [[String: Any]])
    #expect(segments.filter { $0["type"] as? Int == 1 }.count == 3)
    #expect(segments.allSatisfy { $0["paddr"] is Int && $0["filesz"] is Int && $0["memsz"] is Int })
    let resources = try #require(object["resources"] as? [[String: Any]])
    #expect(resources.compactMap { $0["type"] as? String } == ["carveout", "trace", "vdev"])
    #expect(resources[0]["da"] as? Int == 0xFFFF_FFFF && resources[0]["len"] as? Int == 0x10000)
    #expect(resources[0]["name"] as? String == "heap" && resources[0]["pa"] as? Int == 0)
    #expect(resources[2]["id"] as? Int == 7)
    let vrings = try #require(resources[2]["vrings"] as? [[String: Any]])
    #expect(vrings.count == 2)
    #expect(vrings[0]["num"] as? Int == 16 && vrings[0]["align"] as? Int == 4096)
    #expect(vrings[0]["da"] as? Int == 0xFFFF_FFFF && vrings[0]["notifyid"] as? Int == 0)
  }

  @Test func bigEndianAndELF64AreReported() throws {
    let mips = try Rproc.run(["inspect", Rproc.fixture("mips"), "--json"])
    #expect(mips.stdout.contains("\"endianness\" : \"big\""))
    let host = try Rproc.run(["inspect", Rproc.fixture("x86_64"), "--json"])
    #expect(host.stdout.contains("\"class\" : 64"))
    #expect(host.stdout.contains("\"machine\" : 62"))
  }

  @Test func textShowsSegmentsAndTheTable() throws {
    let result = try Rproc.run(["inspect", Rproc.fixture("riscv32")])
    #expect(result.status == 0)
    #expect(result.stdout.contains("ELF32, little-endian, RISC-V (e_machine 243), EXEC (executable)"))
    #expect(result.stdout.contains("Entry point 0x80000000"))
    #expect(result.stdout.contains("LOAD"))
    #expect(result.stdout.contains("Entry 2 is of type vdev\n  ID 7\n"))
  }

  @Test func aBadFileIsOneLineOnStderrAndNonZero() throws {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("bad-\(UUID()).elf").path
    var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: Rproc.fixture("mipsel"))))
    bytes[5] = 9
    #expect(FileManager.default.createFile(atPath: path, contents: Data(bytes)))
    defer { try? FileManager.default.removeItem(atPath: path) }
    let result = try Rproc.run(["inspect", path])
    #expect(result.status == 1)
    #expect(result.stdout.isEmpty)
    #expect(result.stderr == "rproc inspect: \(path): unsupported byte order e_ident[EI_DATA] at 0x5: 9, expected 1 (LSB) or 2 (MSB)\n")
    let missing = try Rproc.run(["inspect", "/nonexistent/fw.elf"])
    #expect(missing.status == 1)
    #expect(missing.stderr.split(separator: "\n").count == 1)
    #expect(missing.stderr.contains("/nonexistent/fw.elf: cannot read the file"))
  }

  @Test func helpIsStable() throws {
    let result = try Rproc.run(["inspect", "--help"])
    #expect(result.stdout == """
      OVERVIEW: Show a firmware image's class, byte order, machine, entry, segments
      and resource table.

      USAGE: rproc inspect <file> [--json]

      ARGUMENTS:
        <file>                  The firmware ELF file.

      OPTIONS:
        --json                  Print JSON instead of text.
        -h, --help              Show help information.


      """)
  }
}
