import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// Why writing or reading a streamed file failed.
public enum FileStreamError: Error, Sendable, Equatable, CustomStringConvertible {
  /// The file system is full (`ENOSPC` or `EDQUOT`) after `bytesWritten` bytes of this stream.
  case diskFull(bytesWritten: Int64)
  /// A system call failed with `errno`.
  case io(operation: String, errno: Int32)

  /// The cause in a few words, for messages.
  public var description: String {
    switch self {
    case .diskFull(let bytes): "no space left on device after writing \(bytes) bytes"
    case .io(let operation, let code): "\(operation) failed: \(String(cString: strerror(code)))"
    }
  }
}
