import HostCPUs
import Remoteproc

extension RemoteprocError {
  /// The CPU registry's refusal as the platform reports it: a bad `cpus` list is
  /// `invalidArgument`, a CPU another processor holds `busy`.
  init(_ error: HostCPUError) {
    let code: RemoteprocError.Code =
      switch error.code {
      case .busy: .busy
      case .invalidCPUs: .invalidArgument
      default: .platform
      }
    self.init(code, error.description)
  }
}
