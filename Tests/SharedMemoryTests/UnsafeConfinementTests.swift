import Foundation
import Testing

/// The project's memory-safety rule: only the SharedMemory target writes `unsafe`
/// (including `nonisolated(unsafe)` and `@unsafe`). Every other Swift file, in sources,
/// tests and tools alike, must be safe Swift.
@Suite struct UnsafeConfinementTests {
  static let root = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

  static func swiftFiles(under folder: String) -> [URL] {
    let base = root.appendingPathComponent(folder)
    guard let walker = FileManager.default.enumerator(at: base, includingPropertiesForKeys: nil)
    else { return [] }
    return walker.compactMap { $0 as? URL }.filter { $0.pathExtension == "swift" }
  }

  /// Removes comments and string literals so only code is searched.
  static func codeOnly(_ text: String) -> String {
    var out = ""
    var chars = Array(text)[...]
    while let c = chars.first {
      if chars.starts(with: "//") {
        while let d = chars.first, d != "\n" { chars = chars.dropFirst() }
      } else if chars.starts(with: "/*") {
        chars = chars.dropFirst(2)
        while !chars.isEmpty, !chars.starts(with: "*/") { chars = chars.dropFirst() }
        chars = chars.dropFirst(2)
      } else if c == "\"" {
        chars = chars.dropFirst()
        while let d = chars.first, d != "\"", d != "\n" {
          chars = chars.dropFirst(d == "\\" ? 2 : 1)
        }
        chars = chars.dropFirst()
        out.append("\"\"")
      } else {
        out.append(c)
        chars = chars.dropFirst()
      }
    }
    return out
  }

  static func mentionsUnsafe(_ text: String) -> Bool {
    codeOnly(text).contains(/\bunsafe\b/)
  }

  @Test func detectorSeesKeywordsButNotComments() {
    #expect(Self.mentionsUnsafe("let x = unsafe p.load()"))
    #expect(Self.mentionsUnsafe("nonisolated(unsafe) var y = 1"))
    #expect(!Self.mentionsUnsafe("// unsafe in a comment\nlet s = \"unsafe\""))
    #expect(!Self.mentionsUnsafe("let unsafeLooking = 1; /* unsafe */"))
  }

  @Test func onlySharedMemoryWritesUnsafe() throws {
    let files = ["Sources", "Tests", "Benchmarks", "Fuzz", "Tools"].flatMap(Self.swiftFiles)
    #expect(files.count > 3)
    let offenders = files.filter { url in
      !url.path.contains("/Sources/SharedMemory/") && !url.path.contains("/.build")
        && Self.mentionsUnsafe((try? String(contentsOf: url, encoding: .utf8)) ?? "unsafe")
    }
    #expect(offenders.map(\.lastPathComponent) == [])
  }
}
