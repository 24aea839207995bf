import ArgumentParser
import RemoteprocOpenAMP

/// `rproc openamp …`: OpenAMP's Linux machine, both roles (docs/openamp.md).
struct OpenAMP: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "openamp",
    abstract: "Talk to OpenAMP's Linux machine: attach to its remote, or be a remote for its host.",
    discussion: """
      Both sides share a file (the resource table, vrings and rpmsg buffers) and kick each other \
      with one byte on a UNIX socket that the remote listens on. The defaults are OpenAMP's: \
      /dev/shm/openamp.shm of 0x80000 bytes, the table at offset 0, device address = file \
      offset, buffers at 0x10000 for 0x40000 bytes, the socket /tmp/openamp.event.0.
      """,
    subcommands: [Attach.self, EchoRemote.self])
}

/// The layout both sides agree on: every value of `OpenAMPConfiguration`, hex or decimal.
struct OpenAMPLayoutOptions: ParsableArguments {
  @Option(help: "The shared-memory file.")
  var shm = OpenAMPConfiguration().sharedMemoryPath

  @Option(help: "Bytes of the shared-memory file.")
  var shmSize = Number(OpenAMPConfiguration().sharedMemorySize)

  @Option(help: "Where the resource table starts in the file.")
  var tableOffset = Number(OpenAMPConfiguration().tableOffset)

  @Option(help: "The device address of the file's first byte.")
  var deviceBase = Number(Int(OpenAMPConfiguration().deviceAddressBase))

  @Option(help: "Where the rpmsg buffers start in the file.")
  var buffers = Number(OpenAMPConfiguration().bufferPoolOffset)

  @Option(help: "Bytes of rpmsg buffers.")
  var buffersSize = Number(OpenAMPConfiguration().bufferPoolSize)

  @Option(help: "The kick socket (the remote listens on it).")
  var socket = OpenAMPConfiguration().socketPath

  var configuration: OpenAMPConfiguration {
    OpenAMPConfiguration(
      sharedMemoryPath: shm, sharedMemorySize: shmSize.value, tableOffset: tableOffset.value,
      deviceAddressBase: UInt64(deviceBase.value), bufferPoolOffset: buffers.value, bufferPoolSize: buffersSize.value,
      socketPath: socket)
  }

  func validate() throws {
    do { try configuration.validate() } catch { throw ValidationError(error.message) }
  }
}

/// A non-negative integer given in decimal or as `0x…` hex.
struct Number: ExpressibleByArgument, CustomStringConvertible, Sendable {
  var value: Int

  init(_ value: Int) { self.value = value }

  init?(argument: String) {
    let parsed = argument.lowercased().hasPrefix("0x") ? Int(argument.dropFirst(2), radix: 16) : Int(argument)
    guard let parsed, parsed >= 0 else { return nil }
    value = parsed
  }

  var description: String { value < 16 ? "\(value)" : "0x" + String(value, radix: 16) }
  var defaultValueDescription: String { description }
}
