import Foundation
import Testing
import TestSupport

@testable import ReconcileCore
@testable import ReconcileRuntime

#if canImport(Glibc)
  import Glibc
#endif

/// One file of a test Hub repository, and the names the Hub gives it.
struct HubRepoFile: Sendable {
  /// The path in the repository.
  var path: String
  /// The content.
  var data: Data
  /// The content's SHA-256: the desired state's digest, and the Hub's `lfs.oid` for an LFS file.
  var sha256: Digest
  /// The git blob SHA-1 of the content (meaningful as the Hub's etag only when not LFS).
  var gitSHA1: String

  init(path: String, data: Data) {
    self.path = path
    self.data = data
    sha256 = SHA256Hasher.digest(data)
    gitSHA1 = GitBlob.sha1(data)
  }

  var size: Int { data.count }
  /// Whether `test_hub_server.py` treats the file as stored with LFS.
  var isLFS: Bool { data.count >= HubFixture.lfsThreshold }
  /// The Hub's etag, the blob name in a Hugging Face cache: sha256 for LFS, git SHA-1 otherwise.
  var etag: String { isLFS ? sha256.hex : gitSHA1 }
  /// The file as a hand-written desired state lists it.
  var spec: FileSpec { FileSpec(path: path, size: Int64(size), sha256: sha256) }
}

/// Everything a Hub end-to-end test needs: a `TestHubServer` (Hub and CDN ports) serving the
/// repositories under `hub/`, a desired-state directory, a node root, a Hugging Face cache
/// directory on the same filesystem, optionally a `TestHTTPServer` for `mirror/`, and a way to
/// run the built binary with `HF_ENDPOINT`, `HF_TOKEN` and every wait bounded.
final class HubFixture {
  /// The token the private repositories require; searched for wherever it must never appear.
  static let token = "hf_e2eS3cretT0kenNeverPrinted9f31c"
  /// The commit `main` points to.
  static let commit = "4c1e0d3b2a99f8e7d6c5b4a39281706f5e4d3c2b"
  /// Files of this size and more are LFS files on `test_hub_server.py` (its default).
  static let lfsThreshold = 1024
  static let repo = "org/repo"

  let directory: TemporaryDirectory
  let hub: TestHubServer
  let mirror: TestHTTPServer?
  let node = "e2e"
  let root: NodeRoot
  /// What every run gets besides PATH and HOME: `HF_ENDPOINT`, `HF_TOKEN`, an empty config.
  var environment: [String: String]

  var desired: String { directory.path + "/desired" }
  var cache: String { directory.path + "/hf-cache" }
  var lockFile: String { desired + "/reconcile.lock.yaml" }

  /// A fixture whose Hub requires `HubFixture.token` for private repositories; `HF_TOKEN` is
  /// set to it. With `mirror`, a plain HTTP server serves `mirror/` too.
  init(mirror: Bool = false) throws {
    directory = try TemporaryDirectory()
    for name in ["hub", "desired", "mirror"] {
      try FileManager.default.createDirectory(atPath: directory.path + "/" + name, withIntermediateDirectories: true)
    }
    hub = try TestHubServer(serving: directory.url.appendingPathComponent("hub"), token: Self.token)
    self.mirror = mirror ? try TestHTTPServer(serving: directory.url.appendingPathComponent("mirror")) : nil
    root = NodeRoot(directory.path + "/root")
    let config = try directory.write("config.toml", "")
    environment = ["HF_ENDPOINT": hub.endpoint, "HF_TOKEN": Self.token, "RECONCILE_CONFIG": config]
  }

  deinit {
    hub.stop()
    mirror?.stop()
  }

  // MARK: Repositories and desired state

  /// A model repository's usual content: LFS weights and tokenizer, small non-LFS JSON, a
  /// nested non-LFS file, and a README no glob of the tests selects.
  static func standardFiles() -> [String: Data] {
    [
      "model.safetensors": randomBytes(300 << 10),
      "tokenizer.json": randomBytes(5000),
      "config.json": Data(#"{"architectures": ["TinyForCausalLM"], "hidden_size": 64}"#.utf8),
      "generation_config.json": Data(#"{"max_new_tokens": 16}"#.utf8),
      "tokenizer/vocab.txt": Data((0..<60).map { "token\($0)\n" }.joined().utf8),
      "README.md": Data("# A test model\n".utf8),
    ]
  }

  /// Writes `files` as `repo` at `commit` with `main` pointing there, private unless told.
  @discardableResult
  func publish(_ repo: String = HubFixture.repo, files: [String: Data] = HubFixture.standardFiles(), commit: String = HubFixture.commit, isPrivate: Bool = true) throws -> [String: HubRepoFile] {
    try TestHubServer.writeRepository(in: directory.url.appendingPathComponent("hub"), repo, commit: commit, files: files, refs: ["main": commit], isPrivate: isPrivate)
    return Dictionary(uniqueKeysWithValues: files.map { ($0.key, HubRepoFile(path: $0.key, data: $0.value)) })
  }

  /// Writes `desired/models.yaml`: model `m@1` with `sources` and variant `fp16`, which lists
  /// `files` or, with `include`, globs for `reconcile lock`.
  func writeDesired(sources: [String], files: [FileSpec] = [], include: [String]? = nil, policy: String = ApplyFixture.fastPolicy) throws {
    var yaml = "models:\n  - name: m\n    version: \"1\"\n"
    yaml += "    sources: [\(sources.map { "\"\($0)\"" }.joined(separator: ", "))]\n    variants:\n      fp16:\n"
    if let include {
      yaml += "        include: [\(include.map { "\"\($0)\"" }.joined(separator: ", "))]\n"
    } else {
      yaml += "        files:\n"
      for file in files.sorted(by: { $0.path < $1.path }) {
        yaml += "          - { path: \(file.path), size: \(file.size), sha256: \(file.sha256.hex) }\n"
      }
    }
    try directory.write("desired/models.yaml", yaml + policy + "\n")
  }

  // MARK: Running reconcile

  /// `--desired`, `--root` and `--node` for this fixture.
  var locations: [String] { ["--desired", desired, "--root", root.path, "--node", node] }

  /// Runs `reconcile <command> <arguments>` on this fixture with `environment` plus `extra`, at
  /// most `timeout` seconds.
  func reconcile(_ command: String, _ arguments: [String] = [], extra: [String: String] = [:], timeout: Double = 120) throws -> Binary.Result {
    try BoundedRun.run(Binary.path, [command] + arguments + locations, environment: environment.merging(extra) { _, new in new }, in: directory.url, timeout: timeout)
  }

  /// `reconcile apply --auto-approve`, waited for.
  func apply(_ arguments: [String] = [], extra: [String: String] = [:]) throws -> Binary.Result {
    try reconcile("apply", ["--auto-approve"] + arguments, extra: extra)
  }

  /// The Hub port's and the CDN port's request logs.
  func hubRequests() throws -> [TestHubServer.LoggedRequest] { try hub.requests(.hub) }
  func cdnRequests() throws -> [TestHubServer.LoggedRequest] { try hub.requests(.cdn) }

  /// What the Hub's tree API lists for `repo` at `main`, by path: the git `oid` and, for an LFS
  /// file, `lfs.oid` — read with Python's urllib, not with reconcile's client.
  func treeEntries(_ repo: String = HubFixture.repo) throws -> [String: TreeEntry] {
    let script = """
      import json, sys, urllib.request
      request = urllib.request.Request(sys.argv[1], headers={"Authorization": "Bearer " + sys.argv[2]})
      entries = json.load(urllib.request.urlopen(request, timeout=30))
      print(json.dumps({e["path"]: {"oid": e["oid"], "lfs": (e.get("lfs") or {}).get("oid")} for e in entries if e["type"] == "file"}))
      """
    let url = "\(hub.endpoint)/api/models/\(repo)/tree/main?recursive=true"
    let result = try BoundedRun.python(script, [url, Self.token], in: directory.url, timeout: 60)
    guard result.status == 0 else { throw Binary.Failure(description: "tree API: \(result.stderr)") }
    return try JSONDecoder().decode([String: TreeEntry].self, from: Data(result.stdout.utf8))
  }

  /// One file of the tree API's answer.
  struct TreeEntry: Decodable {
    /// The git blob id of what git stores (for an LFS file, its pointer).
    var oid: String
    /// The content's SHA-256 for an LFS file.
    var lfs: String?
  }

  /// The text of `reconcile.lock.yaml`, empty when there is none.
  func lockText() -> String { (try? String(contentsOfFile: lockFile, encoding: .utf8)) ?? "" }

  // MARK: What is on disk

  /// Where `path` of `m@1:fp16`'s view lives.
  func view(_ path: String) -> String { root.view(VariantID(name: "m", version: "1", variant: "fp16")) + "/" + path }

  /// Every file under `m@1:fp16`'s view, relative to it.
  func viewFiles() -> Set<String> {
    let base = root.view(VariantID(name: "m", version: "1", variant: "fp16"))
    let enumerator = FileManager.default.enumerator(atPath: base)
    var paths: Set<String> = []
    while let path = enumerator?.nextObject() as? String {
      if Stat(base + "/" + path)?.isRegular == true { paths.insert(path) }
    }
    return paths
  }

  /// Every blob in the store, by file name.
  func blobNames() -> Set<String> {
    let enumerator = FileManager.default.enumerator(atPath: root.blobs)
    var names: Set<String> = []
    while let name = enumerator?.nextObject() as? String {
      let last = (name as NSString).lastPathComponent
      if last.count == 64 { names.insert(last) }
    }
    return names
  }

  /// Names in `.reconcile/tmp/` and `.reconcile/quarantine/`: partial and rejected downloads.
  func leftovers() -> [String] {
    ["tmp", "quarantine"].flatMap { name in
      ((try? FileManager.default.contentsOfDirectory(atPath: root.state + "/" + name)) ?? []).map { "\(name)/\($0)" }
    }.sorted()
  }

  /// Checks that the view of `file` is a hard link to its read-only blob holding its bytes.
  func expectInstalled(_ file: HubRepoFile, sourceLocation: Testing.SourceLocation = #_sourceLocation) {
    let blob = root.blob(file.sha256)
    guard let view = Stat(view(file.path)), let stored = Stat(blob) else {
      Issue.record("\(file.path) is not installed: no view or no blob \(blob)", sourceLocation: sourceLocation)
      return
    }
    #expect(view.device == stored.device && view.inode == stored.inode, "view of \(file.path) is not a hard link to its blob", sourceLocation: sourceLocation)
    #expect(stored.permissions == 0o444, "blob of \(file.path) has mode \(String(stored.permissions, radix: 8))", sourceLocation: sourceLocation)
    #expect(FileManager.default.contents(atPath: self.view(file.path)) == file.data, "\(file.path) does not hold the served bytes", sourceLocation: sourceLocation)
  }

  /// Every file under `.reconcile/` (the registry and its journal), read whole.
  func stateFiles() -> [String: Data] {
    var files: [String: Data] = [:]
    let enumerator = FileManager.default.enumerator(atPath: root.state)
    while let name = enumerator?.nextObject() as? String {
      let path = root.state + "/" + name
      if Stat(path)?.isRegular == true, let data = FileManager.default.contents(atPath: path) { files[name] = data }
    }
    return files
  }
}

/// Runs a program with a reduced environment and standard input closed; every wait is bounded
/// and a process still running at the deadline is killed and reported.
enum BoundedRun {
  /// Runs `executable` with `arguments` in `directory`, with PATH, HOME (the directory) and
  /// `environment` only; at most `timeout` seconds.
  static func run(_ executable: String, _ arguments: [String], environment: [String: String], in directory: URL, timeout: Double) throws -> Binary.Result {
    guard FileManager.default.isExecutableFile(atPath: executable) else {
      throw Binary.Failure(description: "no executable at \(executable): run 'swift build' (make test does) first")
    }
    let environment = ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin", "HOME": directory.path].merging(environment) { _, new in new }
    let run = try ChildProcess.run(executable, arguments, environment: environment, in: directory, timeout: timeout)
    if run.timedOut {
      throw Binary.Failure(description: "\((executable as NSString).lastPathComponent) \(arguments) still ran after \(Int(timeout)) s and was killed; stderr: \(run.stderr)")
    }
    return Binary.Result(stdout: run.stdout, stderr: run.stderr, status: run.terminationStatus)
  }

  /// Runs `python3 -c script` with `arguments` and `environment`, at most `timeout` seconds.
  static func python(_ script: String, _ arguments: [String] = [], environment: [String: String] = [:], in directory: URL, timeout: Double = 120) throws -> Binary.Result {
    try run("/usr/bin/env", ["python3", "-c", script] + arguments, environment: environment, in: directory, timeout: timeout)
  }
}

/// `size` random bytes.
func randomBytes(_ size: Int) -> Data {
  var generator = SystemRandomNumberGenerator()
  return Data((0..<size).map { _ in UInt8.random(in: 0...255, using: &generator) })
}

/// The name git gives a file's content, `sha1("blob <size>\0" + content)`, computed here
/// independently of reconcile's code.
enum GitBlob {
  static func sha1(_ data: Data) -> String {
    var message = Array("blob \(data.count)\0".utf8) + Array(data)
    let bits = UInt64(message.count) * 8
    message.append(0x80)
    while message.count % 64 != 56 { message.append(0) }
    for shift in stride(from: 56, through: 0, by: -8) { message.append(UInt8(truncatingIfNeeded: bits >> UInt64(shift))) }
    var h: [UInt32] = [0x6745_2301, 0xEFCD_AB89, 0x98BA_DCFE, 0x1032_5476, 0xC3D2_E1F0]
    var w = [UInt32](repeating: 0, count: 80)
    for chunk in stride(from: 0, to: message.count, by: 64) {
      for i in 0..<16 {
        let at = chunk + 4 * i
        w[i] = UInt32(message[at]) << 24 | UInt32(message[at + 1]) << 16 | UInt32(message[at + 2]) << 8 | UInt32(message[at + 3])
      }
      for i in 16..<80 {
        let x = w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16]
        w[i] = x << 1 | x >> 31
      }
      var (a, b, c, d, e) = (h[0], h[1], h[2], h[3], h[4])
      for i in 0..<80 {
        let (f, k): (UInt32, UInt32)
        switch i {
        case 0..<20: (f, k) = ((b & c) | (~b & d), 0x5A82_7999)
        case 20..<40: (f, k) = (b ^ c ^ d, 0x6ED9_EBA1)
        case 40..<60: (f, k) = ((b & c) | (b & d) | (c & d), 0x8F1B_BCDC)
        default: (f, k) = (b ^ c ^ d, 0xCA62_C1D6)
        }
        let t = (a << 5 | a >> 27) &+ f &+ e &+ k &+ w[i]
        (e, d, c, b, a) = (d, c, b << 30 | b >> 2, a, t)
      }
      h[0] &+= a
      h[1] &+= b
      h[2] &+= c
      h[3] &+= d
      h[4] &+= e
    }
    return h.map { String(format: "%08x", $0) }.joined()
  }
}

/// moto holding bucket `models` with a model under `m/1/` beside objects no glob selects, and
/// credentials to read it; shared by the S3 end-to-end tests and started once, on first use (it
/// stops with the test process).
struct S3Fixture: Sendable {
  /// With signatures and IAM checked, and a user allowed to read.
  static let signed = Result { try S3Fixture(checkingSignatures: true) }
  /// Accepting any signature. moto's server recomputes the signature of a ListObjectsV2 whose
  /// prefix holds `/` wrongly (boto3 is refused too), so listing a prefix needs this one.
  static let unsigned = Result { try S3Fixture(checkingSignatures: false) }

  let server: MotoServer
  let bucket = "models"
  let prefix = "m/1/"
  /// Path under the prefix → content.
  let objects: [String: Data]
  let reader: MotoServer.Credentials

  init(checkingSignatures: Bool) throws {
    server = try MotoServer()
    objects = [
      "model.safetensors": randomBytes(256 << 10),
      "config.json": Data(#"{"hidden_size": 64}"#.utf8),
      "notes.txt": Data("not part of the model\n".utf8),
      "sub/extra.json": Data("{}".utf8),
    ]
    try server.createBuckets([bucket])
    var keyed: [String: Data] = ["m/2/model.safetensors": Data("another version".utf8)]
    for (path, data) in objects { keyed[prefix + path] = data }
    try server.putObjects(keyed, in: bucket)
    if checkingSignatures {
      reader = try server.createUser("e2e-reader", allowing: ["s3:GetObject", "s3:ListBucket"])
      try server.requireSignatures()
    } else {
      reader = MotoServer.Credentials(accessKeyID: "testing", secretAccessKey: "testing")
    }
  }

  /// `s3://models/m/1/`.
  var source: String { "s3://\(bucket)/\(prefix)" }

  /// The variables that point reconcile at moto with `credentials`.
  func environment(_ credentials: MotoServer.Credentials) -> [String: String] {
    ["AWS_ENDPOINT_URL": server.endpoint, "AWS_REGION": server.region, "AWS_ACCESS_KEY_ID": credentials.accessKeyID, "AWS_SECRET_ACCESS_KEY": credentials.secretAccessKey]
  }

  /// The object at `path` under the prefix, as a file of the model.
  func file(_ path: String) -> HubRepoFile { HubRepoFile(path: path, data: objects[path] ?? Data()) }
}
