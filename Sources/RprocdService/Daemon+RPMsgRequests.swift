import Foundation
import Glibc
import RPMsg
import Remoteproc
import RprocdProtocol

extension Daemon {
  /// `target` as an address: a number (decimal or 0x hex), or the name of one of the bus's
  /// channels (its remote endpoint).
  func destination(_ target: String, on bus: RPMsgBus, of one: HostedProcessor) throws(Refusal) -> EndpointAddress {
    if let number = Self.address(target) { return EndpointAddress(number) }
    if let channel = bus.channels.first(where: { $0.name == target }) { return channel.destination }
    let names = bus.channels.map(\.name)
    throw Refusal(
      ENOENT, "ENOENT",
      "\(one.deviceName) has no channel \(target.prefix(40))"
        + (names.isEmpty ? " (it has none now)" : "; its channels are \(names.joined(separator: ", "))")
        + "; give a channel name or an address")
  }

  static func address(_ text: String) -> UInt32? {
    if text.hasPrefix("0x") || text.hasPrefix("0X") { return UInt32(text.dropFirst(2), radix: 16) }
    return UInt32(text)
  }

  static func seconds(_ value: Double?, default fallback: Double) throws(Refusal) -> Duration {
    let seconds = value ?? fallback
    guard seconds.isFinite, seconds >= 0, seconds <= 3600 else {
      throw .invalid("timeout must be 0…3600 seconds")
    }
    return .milliseconds(Int64(seconds * 1000))
  }

  /// One message from a temporary endpoint, and optionally its first answer.
  func send(_ request: Request) async throws(Refusal) -> SendResult {
    let one = try find(request.processor)
    guard let target = request.target else { throw .missing("target", "send") }
    guard let payload = request.payload else { throw .missing("payload", "send") }
    let bus: RPMsgBus
    do { bus = try await one.bus(vdev: request.index) } catch { throw Refusal(error) }
    let destination = try destination(target, on: bus, of: one)
    let timeout = try Self.seconds(request.timeout, default: 15)
    let endpoint: RPMsgEndpoint
    do { endpoint = try bus.createEndpoint(bufferLimit: 16) } catch { throw Refusal(error) }
    defer { endpoint.destroy() }
    do {
      try await endpoint.send(Array(payload), to: destination, timeout: timeout)
    } catch {
      throw Refusal(error)
    }
    guard request.reply == true else {
      return SendResult(source: endpoint.address.rawValue, destination: destination.rawValue, reply: nil)
    }
    let reply = await Self.firstMessage(of: endpoint, within: timeout)
    guard let reply else {
      throw Refusal(
        ETIMEDOUT, "ETIMEDOUT",
        "sent \(payload.count) bytes from \(endpoint.address.rawValue) to \(destination.rawValue), but no reply came within \(timeout)")
    }
    return SendResult(source: endpoint.address.rawValue, destination: destination.rawValue, reply: reply)
  }

  static func firstMessage(of endpoint: RPMsgEndpoint, within timeout: Duration) async -> MessageRecord? {
    await withTaskGroup(of: MessageRecord?.self) { group in
      group.addTask {
        do {
          for try await message in endpoint.messages {
            return MessageRecord(
              source: message.source.rawValue, destination: message.destination.rawValue, payload: Data(message.payload))
          }
        } catch {}
        return nil
      }
      group.addTask {
        try? await Task.sleep(for: timeout)
        return nil
      }
      defer { group.cancelAll() }
      return await group.next() ?? nil
    }
  }

  /// An endpoint owned by `client`: its messages become `message` events.
  func openEndpoint(_ request: Request, for client: ClientConnection) async throws(Refusal) -> EndpointOpened {
    let one = try find(request.processor)
    let open = client.resources.withLock { $0.endpoints.count }
    guard open < ClientConnection.maximumEndpoints else {
      throw Refusal(
        EMFILE, "EMFILE", "this connection has \(open) endpoints open, the most allowed; close one first")
    }
    let bus: RPMsgBus
    do { bus = try await one.bus(vdev: request.index) } catch { throw Refusal(error) }
    let destination = try request.target.map { (t) throws(Refusal) in try self.destination(t, on: bus, of: one) } ?? .any
    let handle = client.newHandle()
    let outbox = client.outbox
    let endpoint: RPMsgEndpoint
    do {
      endpoint = try bus.createEndpoint(
        name: request.name ?? "", address: request.address.map { EndpointAddress($0) } ?? .any, destination: destination,
        announce: request.announce ?? false,
        onReset: { [weak client] error in
          guard let client, client.resources.withLock({ $0.endpoints.removeValue(forKey: handle) }) != nil else { return }
          outbox.enqueue(.endpointClosed(endpoint: handle, reason: error.message))
        }
      ) { message in
        outbox.enqueue(.message(
          endpoint: handle, source: message.source.rawValue, destination: message.destination.rawValue,
          payload: message.payload))
      }
    } catch {
      throw Refusal(error)
    }
    client.resources.withLock { $0.endpoints[handle] = endpoint }
    return EndpointOpened(
      endpoint: handle, processor: one.deviceName, address: endpoint.address.rawValue,
      destination: endpoint.destination.rawValue)
  }

  func endpoint(_ request: Request, of client: ClientConnection) throws(Refusal) -> (Int, RPMsgEndpoint) {
    guard let handle = request.endpoint else { throw .missing("endpoint", request.op) }
    guard let endpoint = client.resources.withLock({ $0.endpoints[handle] }) else {
      throw Refusal(EBADF, "EBADF", "no endpoint \(handle) on this connection (closed, or its processor stopped)")
    }
    return (handle, endpoint)
  }

  func sendOnEndpoint(_ request: Request, for client: ClientConnection) async throws(Refusal) {
    let (_, endpoint) = try endpoint(request, of: client)
    guard let payload = request.payload else { throw .missing("payload", "endpoint-send") }
    let destination: EndpointAddress
    if let target = request.target {
      guard let one = hosted.first(where: { $0.channels.allBuses.contains { $0.bus === endpoint.bus } }) else {
        throw Refusal(EPIPE, "EPIPE", "the endpoint's processor is gone")
      }
      destination = try self.destination(target, on: endpoint.bus, of: one)
    } else {
      destination = endpoint.destination
      guard destination != .any else {
        throw .invalid("endpoint \(endpoint.address.rawValue) has no destination; give a target")
      }
    }
    let timeout = try Self.seconds(request.timeout, default: 15)
    do {
      try await endpoint.send(Array(payload), to: destination, timeout: timeout)
    } catch {
      throw Refusal(error)
    }
  }

  func closeEndpoint(_ request: Request, for client: ClientConnection) throws(Refusal) {
    let (handle, endpoint) = try endpoint(request, of: client)
    client.resources.withLock { _ = $0.endpoints.removeValue(forKey: handle) }
    endpoint.destroy()
  }
}
