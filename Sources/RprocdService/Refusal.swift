import Glibc
import RPMsg
import Remoteproc
import RprocdProtocol

/// A request the daemon refuses, with the errno Linux would use.
struct Refusal: Error {
  var info: ErrorInfo

  init(_ errno: Int32, _ name: String, _ message: String) {
    info = ErrorInfo(code: name, errno: errno, message: message)
  }

  init(_ error: RemoteprocError) {
    info = ErrorInfo(code: error.code.errnoName, errno: error.errno, message: error.message)
  }

  /// Linux's errors for the same failures on `/dev/rpmsgN` (`rpmsg_char.c`,
  /// `virtio_rpmsg_bus.c`).
  init(_ error: RPMsgError) {
    let (errno, name): (Int32, String) =
      switch error.code {
      case .messageTooLong: (EMSGSIZE, "EMSGSIZE")
      case .invalidAddress, .invalidArgument: (EINVAL, "EINVAL")
      case .addressInUse: (EBUSY, "EBUSY")
      case .noBuffer: (ENOMEM, "ENOMEM")
      case .timedOut: (ETIMEDOUT, "ETIMEDOUT")
      case .cancelled: (ECANCELED, "ECANCELED")
      case .reset, .notRunning, .endpointDestroyed: (EPIPE, "EPIPE")
      case .notReady: (EAGAIN, "EAGAIN")
      default: (EIO, "EIO")
      }
    info = ErrorInfo(code: name, errno: errno, message: error.message)
  }

  static func invalid(_ message: String) -> Refusal { Refusal(EINVAL, "EINVAL", message) }
  static func missing(_ field: String, _ operation: String) -> Refusal {
    invalid("\(operation) needs \"\(field)\"")
  }
}
