import Foundation

/// What a client asks. Every request is one JSON object with an `id` (echoed in the
/// response), an `op`, and the fields that operation uses; the others are absent.
/// See `docs/rprocd.md` for each operation.
public struct Request: Codable, Hashable, Sendable {
  /// The operations of protocol version 1.
  public enum Operation: String, Codable, CaseIterable, Sendable {
    /// The first request of every connection: `version`, `client`.
    case hello
    /// Every processor, briefly.
    case list
    /// Every processor (or `processor`), with channels, terminals and core dumps.
    case status
    /// An attribute (`attribute`: firmware, state, name, recovery, coredump), as sysfs shows it.
    case read
    /// Writes `value` to `attribute`, with sysfs's words and errors.
    case write
    /// `state` ← start / stop / detach.
    case start, stop, detach
    /// Chooses the firmware (`name`), a file inside the processor's firmware directory.
    case firmware
    /// Makes the remote crash (`value`: 0/1/2 or mmufault/watchdog/fatal error), as debugfs `crash`.
    case crash
    /// A trace buffer's text (`index`, default 0).
    case trace
    /// The core dumps kept; `coredump` returns one (`number`, default the newest) with its bytes.
    case coredumps, coredump
    /// The rpmsg channels of every processor (or `processor`).
    case channels
    /// One message (`payload`) to `target` (a channel name or an address) from a temporary
    /// endpoint; with `reply`, waits (up to `timeout` seconds) for one answer.
    case send
    /// An endpoint that lives until closed or the connection ends (`target`, `name`,
    /// `address`, `announce`); its messages arrive as `message` events.
    case endpointOpen = "endpoint-open"
    /// Sends `payload` from an open `endpoint` (to `target`, or its destination).
    case endpointSend = "endpoint-send"
    case endpointClose = "endpoint-close"
    /// Every message to and from `processor`, as `traffic` events, until `unmonitor`.
    case monitor, unmonitor
  }

  public var id: Int
  public var op: String
  public var version: Int?
  public var client: String?
  public var processor: String?
  public var attribute: String?
  public var value: String?
  public var name: String?
  public var index: Int?
  public var number: Int?
  public var target: String?
  public var payload: Data?
  public var reply: Bool?
  public var timeout: Double?
  public var endpoint: Int?
  public var monitor: Int?
  public var address: UInt32?
  public var announce: Bool?

  public init(
    id: Int = 0, _ operation: Operation, version: Int? = nil, client: String? = nil, processor: String? = nil,
    attribute: String? = nil, value: String? = nil, name: String? = nil, index: Int? = nil, number: Int? = nil,
    target: String? = nil, payload: Data? = nil, reply: Bool? = nil, timeout: Double? = nil,
    endpoint: Int? = nil, monitor: Int? = nil, address: UInt32? = nil, announce: Bool? = nil
  ) {
    self.id = id
    self.op = operation.rawValue
    self.version = version
    self.client = client
    self.processor = processor
    self.attribute = attribute
    self.value = value
    self.name = name
    self.index = index
    self.number = number
    self.target = target
    self.payload = payload
    self.reply = reply
    self.timeout = timeout
    self.endpoint = endpoint
    self.monitor = monitor
    self.address = address
    self.announce = announce
  }

  /// The operation, or nil for a name this version does not know.
  public var operation: Operation? { Operation(rawValue: op) }
}

/// The JSON coders of the protocol: snake_case keys, byte strings as base64.
public enum ProtocolJSON {
  public static func encoder() -> JSONEncoder {
    let encoder = JSONEncoder()
    encoder.keyEncodingStrategy = .convertToSnakeCase
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    return encoder
  }

  public static func decoder() -> JSONDecoder {
    let decoder = JSONDecoder()
    decoder.keyDecodingStrategy = .convertFromSnakeCase
    return decoder
  }

  /// `value` as a frame (length header and JSON).
  public static func frame<T: Encodable>(_ value: T) throws(RprocdError) -> [UInt8] {
    do {
      return Frame.encode(Array(try encoder().encode(value)))
    } catch {
      throw RprocdError(.malformed, "cannot encode \(T.self): \(error)")
    }
  }

  /// Decodes a frame's JSON.
  public static func decode<T: Decodable>(_ type: T.Type, from json: [UInt8]) throws(RprocdError) -> T {
    do {
      return try decoder().decode(type, from: Data(json))
    } catch let DecodingError.keyNotFound(key, _) {
      throw RprocdError(.malformed, "missing field \(key.stringValue.snakeCased)")
    } catch let DecodingError.typeMismatch(_, context) {
      throw RprocdError(.malformed, "field \(context.codingPath.map(\.stringValue.snakeCased).joined(separator: ".")) has the wrong type")
    } catch let DecodingError.dataCorrupted(context) {
      let path = context.codingPath.map(\.stringValue.snakeCased).joined(separator: ".")
      throw RprocdError(.malformed, path.isEmpty ? "not JSON" : "field \(path) is invalid (\(context.debugDescription))")
    } catch {
      throw RprocdError(.malformed, "cannot decode \(T.self): \(error)")
    }
  }
}

extension String {
  var snakeCased: String {
    var out = ""
    for c in self {
      if c.isUppercase { out += "_" + c.lowercased() } else { out.append(c) }
    }
    return out
  }
}
