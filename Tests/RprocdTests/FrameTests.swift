import Foundation
import RprocdProtocol
import Testing

/// The socket protocol's framing and JSON, without a daemon.
@Suite struct FrameTests {
  @Test func framesSplitAnywhereAreReassembled() throws {
    let a = try ProtocolJSON.frame(Request(id: 1, .hello, version: 1, client: "t"))
    let b = try ProtocolJSON.frame(Request(id: 2, .list))
    let stream = a + b
    for cut in 0...stream.count {
      var decoder = FrameDecoder(maximumFrameBytes: 1024)
      decoder.append(Array(stream[..<cut]))
      var frames: [[UInt8]] = []
      while let frame = try decoder.next() { frames.append(frame) }
      decoder.append(Array(stream[cut...]))
      while let frame = try decoder.next() { frames.append(frame) }
      #expect(frames == [Array(a.dropFirst(4)), Array(b.dropFirst(4))], "cut at \(cut)")
      #expect(decoder.pendingByteCount == 0)
    }
  }

  @Test func emptyAndOversizedFramesAreRefused() {
    var empty = FrameDecoder(maximumFrameBytes: 16)
    empty.append([0, 0, 0, 0])
    #expect(throws: RprocdError.self) { try empty.next() }
    var big = FrameDecoder(maximumFrameBytes: 16)
    big.append([0, 0, 0, 17])
    #expect { try big.next() } throws: { ($0 as? RprocdError)?.code == .tooLarge }
  }

  @Test func onlyShallowJSONObjectsPass() throws {
    try Frame.checkShape(Array(#"{"a":[1,{"b":"[[[[[[[[[[["}]}"#.utf8))
    for bad in ["[1]", "  \"x\"", "", "{\"a\":[[[[[[[[[1]]]]]]]]]}"] {
      #expect(throws: RprocdError.self, "\(bad)") { try Frame.checkShape(Array(bad.utf8)) }
    }
  }

  @Test func requestsUseSnakeCaseAndBase64() throws {
    let frame = try ProtocolJSON.frame(Request(id: 3, .endpointSend, payload: Data("hi".utf8), endpoint: 2))
    let json = String(decoding: frame.dropFirst(4), as: UTF8.self)
    #expect(json == #"{"endpoint":2,"id":3,"op":"endpoint-send","payload":"aGk="}"#)
    let event = try ProtocolJSON.decode(
      TrafficEvent.self,
      from: Array(#"{"event":"traffic","monitor":1,"time_ns":5,"direction":"in","source":1024,"destination":53,"flags":0,"payload":"AA==","dropped":0}"#.utf8))
    #expect(event.timeNs == 5 && event.payload == Data([0]))
    #expect { try ProtocolJSON.decode(Request.self, from: Array(#"{"id":"x","op":"list"}"#.utf8)) } throws: {
      ($0 as? RprocdError)?.message == "field id has the wrong type"
    }
  }
}
