import Foundation
import Testing
import TestSupport

@testable import ReconcileCore
@testable import ReconcileRuntime

#if canImport(Glibc)
  import Glibc
#endif

/// A file of random bytes written for one test, and what a desired state says about it.
struct ServedFile: Sendable {
  /// Where the bytes are on disk.
  var location: String
  /// The content.
  var data: Data
  /// Its SHA-256, as the desired state lists it.
  var digest: Digest

  var size: Int { data.count }
}

/// One model of a generated desired state.
struct ModelSpec {
  var name: String
  var version = "1"
  /// Source URLs, tried in order.
  var sources: [String]
  /// Variant name → (view path → file), rendered in name order.
  var variants: [String: [String: ServedFile]]
  /// `requires:` references, `name@version[:variant]`.
  var requires: [String] = []
}

/// Everything one apply test needs: a temporary directory holding the files a `TestHTTPServer`
/// serves (`mirror/`), a desired-state directory (`desired/`) and a node root (`root/`), and a
/// way to run the built binary against them with every wait bounded.
final class ApplyFixture {
  /// Retries without pauses and eviction without grace, so failure tests stay fast.
  static let fastPolicy = """
    policy:
      gc_grace: 0s
      concurrency: 4
      retry: { attempts: 3, backoff: 0s, max_backoff: 0s }
    """

  let directory: TemporaryDirectory
  let server: TestHTTPServer
  let node = "e2e"
  let root: NodeRoot

  var mirror: String { directory.path + "/mirror" }
  var desired: String { directory.path + "/desired" }

  init() throws {
    directory = try TemporaryDirectory()
    try FileManager.default.createDirectory(atPath: directory.path + "/mirror", withIntermediateDirectories: true)
    try FileManager.default.createDirectory(atPath: directory.path + "/desired", withIntermediateDirectories: true)
    server = try TestHTTPServer(serving: URL(fileURLWithPath: directory.path + "/mirror"))
    root = NodeRoot(directory.path + "/root")
  }

  deinit { server.stop() }

  // MARK: Files and desired state

  /// Writes `size` random bytes to `path` under the mirror (or at `path` when it is absolute).
  @discardableResult
  func makeFile(_ path: String, size: Int) throws -> ServedFile {
    guard let random = FileHandle(forReadingAtPath: "/dev/urandom") else { throw Binary.Failure(description: "cannot open /dev/urandom") }
    defer { try? random.close() }
    var data = Data()
    while data.count < size { data.append(random.readData(ofLength: size - data.count)) }
    return try place(data, at: path)
  }

  /// The same bytes as `file`, also at `path` (under the mirror unless absolute).
  @discardableResult
  func copy(_ file: ServedFile, to path: String) throws -> ServedFile {
    try place(file.data, at: path)
  }

  private func place(_ data: Data, at path: String) throws -> ServedFile {
    let location = path.hasPrefix("/") ? path : mirror + "/" + path
    try FileManager.default.createDirectory(atPath: (location as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
    try data.write(to: URL(fileURLWithPath: location))
    return ServedFile(location: location, data: data, digest: SHA256Hasher.digest(data))
  }

  /// `http://127.0.0.1:PORT/<directory>/`, a source URL for files under `mirror/<directory>`.
  func source(_ directory: String) -> String { server.url("/\(directory)/") }

  /// Writes `desired/models.yaml` with `models` and `policy`, replacing what was there.
  func writeDesired(_ models: [ModelSpec], policy: String = ApplyFixture.fastPolicy) throws {
    var yaml = "models:\n"
    for model in models {
      yaml += "  - name: \(model.name)\n    version: \"\(model.version)\"\n"
      if !model.requires.isEmpty { yaml += "    requires: [\(model.requires.joined(separator: ", "))]\n" }
      yaml += "    sources: [\(model.sources.map { "\"\($0)\"" }.joined(separator: ", "))]\n    variants:\n"
      for (variant, files) in model.variants.sorted(by: { $0.key < $1.key }) {
        yaml += "      \(variant):\n        files:\n"
        for (path, file) in files.sorted(by: { $0.key < $1.key }) {
          yaml += "          - { path: \(path), size: \(file.size), sha256: \(file.digest.hex) }\n"
        }
      }
    }
    try directory.write("desired/models.yaml", yaml + policy + "\n")
  }

  // MARK: Running reconcile

  /// `--desired`, `--root` and `--node` for this fixture.
  var locations: [String] { ["--desired", desired, "--root", root.path, "--node", node] }

  /// Runs `reconcile <command> <arguments>` on this fixture's desired state and root and waits
  /// for it, at most `timeout` seconds.
  func reconcile(_ command: String, _ arguments: [String] = [], timeout: Double = 120) throws -> Binary.Result {
    try start(command, arguments).wait(timeout: timeout)
  }

  /// `reconcile apply --auto-approve`, waited for.
  func apply(_ arguments: [String] = []) throws -> Binary.Result {
    try reconcile("apply", ["--auto-approve"] + arguments)
  }

  /// Starts `reconcile <command> <arguments>` in the background.
  func start(_ command: String, _ arguments: [String] = []) throws -> ReconcileProcess {
    try ReconcileProcess([command] + arguments + locations, in: directory.url)
  }

  // MARK: What is on disk

  /// Where the blob of `file` lives.
  func blob(_ file: ServedFile) -> String { root.blob(file.digest) }

  /// Where `path` of a variant's view lives.
  func view(_ model: String, _ variant: String, _ path: String, version: String = "1") -> String {
    root.view(VariantID(name: model, version: version, variant: variant)) + "/" + path
  }

  /// Names in `.reconcile/tmp/` (partial downloads and their sidecars).
  func temporaryFiles() -> [String] {
    ((try? FileManager.default.contentsOfDirectory(atPath: root.temporary)) ?? []).sorted()
  }

  /// Every blob in the store, by file name.
  func blobNames() -> [String] {
    let enumerator = FileManager.default.enumerator(atPath: root.blobs)
    var names: [String] = []
    while let name = enumerator?.nextObject() as? String {
      if (name as NSString).lastPathComponent.count == 64 { names.append((name as NSString).lastPathComponent) }
    }
    return names.sorted()
  }

  /// The server's request log for paths ending in `suffix`.
  func requests(endingIn suffix: String = "") throws -> [TestHTTPServer.LoggedRequest] {
    try server.requests().filter { $0.path.hasSuffix(suffix) }
  }

  /// Checks that the view at `viewPath` is a hard link to the blob of `file` (same inode), that
  /// the blob is read-only (0444) and that it holds the file's bytes.
  func expectLinked(_ viewPath: String, to file: ServedFile, sourceLocation: Testing.SourceLocation = #_sourceLocation) {
    let blob = blob(file)
    guard let view = Stat(viewPath), let stored = Stat(blob) else {
      Issue.record("missing: \(Stat(viewPath) == nil ? viewPath : blob)", sourceLocation: sourceLocation)
      return
    }
    #expect(view.isRegular, "\(viewPath) is not a regular file", sourceLocation: sourceLocation)
    #expect(view.device == stored.device && view.inode == stored.inode, "\(viewPath) is not a hard link to \(blob)", sourceLocation: sourceLocation)
    #expect(stored.permissions == 0o444, "\(blob) has mode \(String(stored.permissions, radix: 8))", sourceLocation: sourceLocation)
    #expect(FileManager.default.contents(atPath: blob) == file.data, "\(blob) does not hold the served bytes", sourceLocation: sourceLocation)
  }
}

/// `lstat` of a path: what the tests compare.
struct Stat: Equatable {
  var device: UInt64
  var inode: UInt64
  var permissions: UInt32
  var isRegular: Bool
  var links: UInt64
  var size: Int64

  init?(_ path: String) {
    var info = stat()
    guard lstat(path, &info) == 0 else { return nil }
    device = UInt64(info.st_dev)
    inode = UInt64(info.st_ino)
    permissions = UInt32(info.st_mode) & 0o7777
    isRegular = (info.st_mode & S_IFMT) == S_IFREG
    links = UInt64(info.st_nlink)
    size = Int64(info.st_size)
  }
}

/// The built `reconcile` started in the background, with the environment `Binary.run` gives it
/// and standard input closed, so a test can run two at once or kill one. Every wait is bounded;
/// a process still running when its object goes away is killed.
final class ReconcileProcess: @unchecked Sendable {
  let process: Process
  private let stdout: ChildProcess.Collector
  private let stderr: ChildProcess.Collector

  /// The child's process id.
  var pid: pid_t { process.processIdentifier }

  init(_ arguments: [String], in directory: URL, environment: [String: String] = [:]) throws {
    guard FileManager.default.isExecutableFile(atPath: Binary.path) else {
      throw Binary.Failure(description: "no reconcile binary at \(Binary.path): run 'swift build' (make test does) first")
    }
    process = Process()
    process.executableURL = URL(fileURLWithPath: Binary.path)
    process.arguments = arguments
    process.currentDirectoryURL = directory
    process.environment = ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin", "HOME": NSTemporaryDirectory()]
      .merging(environment) { _, new in new }
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    process.standardInput = FileHandle.nullDevice
    try process.run()
    stdout = ChildProcess.Collector(out)
    stderr = ChildProcess.Collector(err)
  }

  deinit { if process.isRunning { kill() } }

  var isRunning: Bool { process.isRunning }

  /// Sends SIGKILL and reaps the child.
  func kill() {
    _ = Glibc.kill(pid, SIGKILL)
    _ = waitUntil(timeout: 10) { !self.process.isRunning }
  }

  /// Waits for the process to end, at most `timeout` seconds; a process still running then is
  /// killed and the wait throws, so a hang fails the test instead of blocking it.
  func wait(timeout: Double = 120) throws -> Binary.Result {
    guard waitUntil(timeout: timeout, { !self.process.isRunning }) else {
      kill()
      throw Binary.Failure(description: "reconcile \(process.arguments ?? []) still ran after \(Int(timeout)) s and was killed; stderr: \(stderr.text(timeout: 5))")
    }
    process.waitUntilExit()
    return Binary.Result(stdout: stdout.text(timeout: 10), stderr: stderr.text(timeout: 10), status: process.terminationStatus)
  }
}

/// Polls `condition` every 20 ms until it holds or `timeout` seconds pass; whether it held.
func waitUntil(timeout: Double, _ condition: () -> Bool) -> Bool {
  let deadline = Date().addingTimeInterval(timeout)
  while !condition() {
    if Date() >= deadline { return false }
    usleep(20_000)
  }
  return true
}
