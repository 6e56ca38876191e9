import Foundation
import ReconcileCore

/// A directory of desired-state files on disk and the git commit it is at.
public struct DesiredDirectory: Sendable {
  /// The directory as the user gave it, kept for messages.
  public var path: String

  /// Creates a reader for `path`.
  public init(path: String) { self.path = path }

  /// Why the directory could not be read.
  public struct ReadError: Error, Sendable, CustomStringConvertible, ReportedError {
    /// What went wrong, naming the path.
    public var description: String
    /// Whether `description` starts with the file's position and severity.
    public var positioned = false

    /// The description, with `error: ` in front unless it carries its position.
    public var reportLines: [String] { [positioned ? description : "error: " + description] }
  }

  /// The `*.yaml`, `*.yml` and `*.toml` files directly in the directory (or the one file named),
  /// with paths as the user will see them in messages.
  public func files() throws(ReadError) -> [DesiredFile] {
    guard let status = FileStatus.of(path) ?? statFollowing(path) else {
      throw ReadError(description: "desired state '\(path)' does not exist; pass --desired DIR or set RECONCILE_DESIRED")
    }
    if status.kind != .directory, statFollowing(path)?.kind != .directory {
      // One desired file reads its lock too, since `reconcile lock` writes it beside the file.
      let lock = (PathText.parent(of: path) as NSString).appendingPathComponent("reconcile.lock.yaml")
      let withLock = FileStatus.of(lock)?.kind == .regular && (lock as NSString).standardizingPath != (path as NSString).standardizingPath
      return [try read(path)] + (withLock ? [try read(lock)] : [])
    }
    let prefix = path.hasSuffix("/") ? path : path + "/"
    let names = DirectoryListing.names(path).filter { DesiredFile.isDesiredStateFile($0) && !$0.hasPrefix(".") }
    if names.isEmpty {
      throw ReadError(description: "desired state '\(path)' has no *.yaml, *.yml or *.toml files")
    }
    var files: [DesiredFile] = []
    for name in names { files.append(try read(prefix + name)) }
    return files
  }

  func read(_ file: String) throws(ReadError) -> DesiredFile {
    guard let data = FileManager.default.contents(atPath: file) else {
      throw ReadError(description: "cannot read '\(file)': permission denied or not a file")
    }
    guard let text = String(data: data, encoding: .utf8) else {
      throw ReadError(description: "\(file): error: file is not valid UTF-8", positioned: true)
    }
    return DesiredFile(path: file, text: text)
  }

  func statFollowing(_ path: String) -> FileStatus? {
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { return nil }
    return FileStatus.of(path).map { var status = $0; status.kind = isDirectory.boolValue ? .directory : .regular; return status }
  }

  /// The commit checked out in the git repository holding the directory, read from `.git`
  /// without running git; nil outside a repository.
  public func gitCommit() -> String? {
    var directory = URL(fileURLWithPath: path).standardizedFileURL
    if statFollowing(directory.path)?.kind != .directory { directory.deleteLastPathComponent() }
    while true {
      let git = directory.appendingPathComponent(".git").path
      if let commit = GitHead(gitDirectory: git).commit() { return commit }
      if directory.path == "/" { return nil }
      directory.deleteLastPathComponent()
    }
  }
}
