import Glibc
import RemoteprocBenchmarks

// Usage: RPMsgLoopbackCallgrind LOOP MESSAGES [--unbiased]
//   LOOP: oneway32, oneway496, echo32, echo496, zerocopy496 (the benchmark's loops)
//   --unbiased: first have another thread use both buses (the locks' bias revoked)
let arguments = CommandLine.arguments
guard arguments.count >= 3, let messages = Int(arguments[2]), messages > 0 else {
  print("usage: RPMsgLoopbackCallgrind oneway32|oneway496|echo32|echo496|zerocopy496 MESSAGES [--unbiased]")
  exit(64)
}
let loops = try RPMsgLoopbackWorkload()
if arguments.contains("--unbiased") { loops.useFromAnotherThread() }
@MainActor func run(_ n: Int) {
  switch arguments[1] {
  case "oneway32": loops.oneWay(payloadCount: 32, messages: n)
  case "oneway496": loops.oneWay(payloadCount: 496, messages: n)
  case "echo32": loops.roundTrip(payloadCount: 32, messages: n)
  case "echo496": loops.roundTrip(payloadCount: 496, messages: n)
  default: loops.zeroCopy(messages: n)
  }
}
run(1000)  // warm up
run(messages)
try loops.check()
