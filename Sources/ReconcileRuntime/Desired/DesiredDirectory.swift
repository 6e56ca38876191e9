import Foundation
import ReconcileCore

#if canImport(Glibc)
  import Glibc
#endif

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
    let names = DirectoryListing.names(path).filter(Self.reads)
    if names.isEmpty {
      throw ReadError(description: "desired state '\(path)' has no *.yaml, *.yml or *.toml files")
    }
    var files: [DesiredFile] = []
    for name in names { files.append(try read(prefix + name)) }
    return files
  }

  /// Whether a directory's entry named `name` is read: `*.yaml`, `*.yml` and `*.toml`, but
  /// not hidden files (editors' swap and backup files).
  public static func reads(_ name: String) -> Bool {
    DesiredFile.isDesiredStateFile(name) && !name.hasPrefix(".")
  }

  /// The largest desired-state file read: several times a 10,000-model desired state, and a
  /// bound on what a symbolic link to `/dev/zero` or a huge file can make a node allocate.
  public static let maximumFileBytes = 64 << 20

  func read(_ file: String) throws(ReadError) -> DesiredFile {
    // Non-blocking, so that a FIFO named `models.yaml` is refused rather than waited on.
    let fd = open(file, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
    guard fd >= 0 else {
      throw ReadError(description: "cannot read '\(file)': \(String(cString: strerror(errno))); check that it is a readable file")
    }
    defer { close(fd) }
    var info = stat()
    guard fstat(fd, &info) == 0, info.st_mode & S_IFMT == S_IFREG else {
      throw ReadError(description: "cannot read '\(file)': not a regular file (a directory, device, pipe or socket); desired-state files are plain files")
    }
    guard info.st_size <= Self.maximumFileBytes else {
      throw ReadError(description: "\(file): error: the file has \(info.st_size) bytes, more than the \(Self.maximumFileBytes >> 20) MiB a desired-state file may have; split it into several files", positioned: true)
    }
    // The file may grow while it is read: the buffer grows up to one byte past the bound to notice.
    var data = Data(count: Int(info.st_size) + 1)
    var total = 0
    while true {
      if total == data.count {
        guard data.count <= Self.maximumFileBytes else { break }
        data.count = min(data.count * 2, Self.maximumFileBytes + 1)
      }
      let count = data.withUnsafeMutableBytes { buffer -> Int in
        guard let base = buffer.baseAddress else { return 0 }
        return Glibc.read(fd, base + total, buffer.count - total)
      }
      if count < 0, errno == EINTR { continue }
      guard count >= 0 else {
        throw ReadError(description: "cannot read '\(file)': \(String(cString: strerror(errno))); check that it is a readable file")
      }
      if count == 0 { break }
      total += count
    }
    guard total <= Self.maximumFileBytes else {
      throw ReadError(description: "\(file): error: the file has more than the \(Self.maximumFileBytes >> 20) MiB a desired-state file may have; split it into several files", positioned: true)
    }
    return try Self.decode(data.prefix(total), path: file)
  }

  /// The file at `path` from its bytes; an error naming the file when they are not UTF-8.
  public static func decode(_ data: Data, path: String) throws(ReadError) -> DesiredFile {
    guard let text = String(data: data, encoding: .utf8) else {
      throw ReadError(description: "\(path): error: file is not valid UTF-8", positioned: true)
    }
    return DesiredFile(path: path, text: text)
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
