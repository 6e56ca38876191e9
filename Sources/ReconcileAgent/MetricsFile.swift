import Foundation
import ReconcileRuntime

/// Writes the metrics for node_exporter's textfile collector: to a temporary file in the same
/// directory, then renamed over `path`, so the collector never reads half a file.
public enum MetricsFile {
  /// Writes `text` to `path` atomically; the file is readable by everyone (the exporter's user).
  public static func write(_ text: String, to path: String) throws {
    let url = URL(fileURLWithPath: path)
    let directory = url.deletingLastPathComponent().path
    let temporary = directory + "/.\(url.lastPathComponent).\(getpid()).tmp"
    guard FileManager.default.createFile(atPath: temporary, contents: Data(text.utf8), attributes: [.posixPermissions: 0o644]) else {
      throw MetricsFileError(path: path, cause: String(cString: strerror(errno)))
    }
    guard rename(temporary, path) == 0 else {
      let cause = String(cString: strerror(errno))
      unlink(temporary)
      throw MetricsFileError(path: path, cause: cause)
    }
  }
}

/// The metrics file could not be written.
public struct MetricsFileError: Error, CustomStringConvertible {
  /// The file.
  public var path: String
  /// Why.
  public var cause: String

  public var description: String { "cannot write the metrics file \(path): \(cause); check that its directory exists and is writable" }
}
