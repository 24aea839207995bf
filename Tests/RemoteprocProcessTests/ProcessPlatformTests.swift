import Foundation
import RPMsg
import Remoteproc
import RemoteprocProcess
import Testing

@Suite struct ProcessPlatformTests {
  @Test(arguments: ["rpmsg-echo-native.elf", "rpmsg-echo-remote"])
  func anEchoFirmwareAnswersTheClientSample(firmware: String) async throws {
    let host = try await ProcessHost(firmware: firmware)
    do {
      try await host.processor.boot()
      #expect(await host.processor.state == .running)
      let pid = try #require(host.platform.processID)
      #expect(processExists(pid))
      let sample = try await host.channel("rpmsg-client-sample")
      _ = try await host.channel("rpmsg-tty")
      for round in 0..<100 {
        let text = Array("hello world! \(round)".utf8)
        try await sample.send(text)
        try await eventually("echo \(round)") { host.probe.messages.count == round + 1 }
        #expect(host.probe.messages.last == text)
      }
      #expect(await host.trace().contains("hello"))
      try await host.processor.shutdown()
      #expect(await host.processor.state == .offline)
      #expect(!processExists(pid))
    } catch {
      await host.close()
      throw error
    }
    await host.close()
  }
}
