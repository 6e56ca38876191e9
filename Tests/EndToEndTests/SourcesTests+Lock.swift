import Foundation
import Testing
import TestSupport

@testable import ReconcileCore
@testable import ReconcileRuntime

/// `reconcile lock` on the built binary: `include:` globs resolved from a Hub repository, a
/// `file://` directory and an S3 prefix into `reconcile.lock.yaml`, which plan and apply then use.
extension SourcesTests {
  static let globs = ["*.safetensors", "*.json"]
  /// The files of `HubFixture.standardFiles()` the globs select (not `README.md`, nor the nested
  /// `tokenizer/vocab.txt`).
  static let selected = ["config.json", "generation_config.json", "model.safetensors", "tokenizer.json"]

  /// The line `reconcile lock` writes for `file`: LFS files with their SHA-256 only, the others
  /// with their git SHA-1 too when `git` is set.
  static func lockLine(_ file: HubRepoFile, git: Bool) -> String {
    var line = "- { path: \"\(file.path)\", size: \(file.size), sha256: \(file.sha256.hex)"
    if git { line += ", git_sha1: \(file.gitSHA1)" }
    return line + " }\n"
  }

  /// The paths of the files in a lock file's text.
  static func lockedPaths(_ text: String) -> [String] {
    text.split(separator: "\n").compactMap { line in
      guard let start = line.range(of: "- { path: \"") else { return nil }
      return line[start.upperBound...].split(separator: "\"").first.map(String.init)
    }
  }

  @Test func lockPinsTheCommitAndEveryMatchingFileAndApplyInstallsExactlyThose() throws {
    let fixture = try HubFixture()
    let repo = try fixture.publish()
    try fixture.writeDesired(sources: ["hf://org/repo@main"], include: Self.globs)
    let pinned = "hf://org/repo@\(HubFixture.commit)"

    let unlocked = try fixture.reconcile("plan")
    #expect(unlocked.status == 1, "\(unlocked.stdout)\(unlocked.stderr)")
    #expect(unlocked.stderr.contains("m@1:fp16 lists include: globs but is not locked; run 'reconcile lock m@1'"), "\(unlocked.stderr)")

    try fixture.hub.reset()
    let lock = try fixture.reconcile("lock")
    #expect(lock.status == 0, "\(lock.stdout)\(lock.stderr)")
    #expect(lock.stdout.contains("locked m@1:fp16: 4 files"), "\(lock.stdout)")
    #expect(lock.stdout.contains("from \(pinned)"), "\(lock.stdout)")
    let text = fixture.lockText()
    #expect(text.contains("    source: \"\(pinned)\"\n"), "\(text)")
    #expect(text.contains("    include: [\"*.safetensors\", \"*.json\"]\n"), "\(text)")
    #expect(Self.lockedPaths(text) == Self.selected, "\(text)")
    let tree = try fixture.treeEntries()
    for path in Self.selected {
      let file = try #require(repo[path])
      let entry = try #require(tree[path])
      // LFS files carry the Hub's lfs.oid; the others were fetched and hashed, and keep the git
      // blob id the tree API gave.
      #expect(entry.lfs == (file.isLFS ? file.sha256.hex : nil), "\(path): \(entry)")
      #expect(file.isLFS || entry.oid == file.gitSHA1, "\(path): \(entry)")
      #expect(text.contains(Self.lockLine(file, git: !file.isLFS)), "\(path) in \(text)")
    }
    let fetched = try fixture.cdnRequests().filter { $0.method == "GET" }.map { ($0.path as NSString).lastPathComponent }
    #expect(fetched.sorted() == Self.selected.filter { repo[$0]?.isLFS == false }, "only non-LFS files are fetched to be hashed")
    #expect(try fixture.cdnRequests().allSatisfy { !$0.authorizationPresent })

    let plan = try fixture.reconcile("plan")
    #expect(plan.status == 0, "\(plan.stdout)\(plan.stderr)")
    let line = plan.stdout.split(separator: "\n").first { $0.contains("+ download") }.map(String.init) ?? ""
    #expect(line.contains("m@1:fp16  4 files"), "\(plan.stdout)")
    #expect(line.contains("from \(pinned)"), "the download line names the locked commit: \(plan.stdout)")
    let json = try fixture.reconcile("plan", ["--json"])
    let sources = try Self.jsonSources(json.stdout)
    #expect(sources.count == 4 && sources.allSatisfy { $0.first == pinned }, "\(sources)")

    let applied = try fixture.apply()
    #expect(applied.status == 0, "\(applied.stdout)\(applied.stderr)")
    #expect(fixture.viewFiles() == Set(Self.selected))
    for path in Self.selected { fixture.expectInstalled(try #require(repo[path])) }
    #expect(fixture.blobNames() == Set(Self.selected.compactMap { repo[$0]?.sha256.hex }))

    let again = try fixture.reconcile("plan", ["--detailed-exitcode"])
    #expect(again.status == 0, "\(again.stdout)\(again.stderr)")
    #expect(again.stdout.contains("\nNo changes.\n"), "\(again.stdout)")
  }

  @Test func otherGlobsMakeTheLockStaleUntilItIsMadeAgain() throws {
    let fixture = try HubFixture()
    let repo = try fixture.publish()
    try fixture.writeDesired(sources: ["hf://org/repo@main"], include: Self.globs)
    let first = try fixture.reconcile("lock")
    #expect(first.status == 0, "\(first.stdout)\(first.stderr)")

    try fixture.writeDesired(sources: ["hf://org/repo@main"], include: ["*.safetensors"])
    let stale = try fixture.reconcile("plan")
    #expect(stale.status == 1, "\(stale.stdout)\(stale.stderr)")
    #expect(stale.stderr.contains("m@1:fp16") && stale.stderr.contains("reconcile lock m@1"), "\(stale.stderr)")
    let refused = try fixture.apply()
    #expect(refused.status == 1, "\(refused.stdout)\(refused.stderr)")
    #expect(fixture.viewFiles().isEmpty && fixture.blobNames().isEmpty, "nothing is applied from a stale lock")

    let relock = try fixture.reconcile("lock", ["m"])
    #expect(relock.status == 0, "\(relock.stdout)\(relock.stderr)")
    let text = fixture.lockText()
    #expect(text.contains("    include: [\"*.safetensors\"]\n"), "\(text)")
    #expect(Self.lockedPaths(text) == ["model.safetensors"], "\(text)")
    let plan = try fixture.reconcile("plan")
    #expect(plan.status == 0, "\(plan.stdout)\(plan.stderr)")
    #expect(plan.stdout.contains("m@1:fp16  1 file "), "\(plan.stdout)")
    let applied = try fixture.apply()
    #expect(applied.status == 0, "\(applied.stdout)\(applied.stderr)")
    fixture.expectInstalled(try #require(repo["model.safetensors"]))
    #expect(fixture.viewFiles() == ["model.safetensors"])
  }

  @Test func lockListsADirectoryRelativeToTheDesiredState() throws {
    let fixture = try HubFixture()
    let contents: [String: Data] = [
      "weights.bin": randomBytes(200 << 10), "config.json": Data("{\"layers\": 2}".utf8),
      "notes.txt": Data("no glob selects this\n".utf8), "sub/extra.json": Data("{}".utf8),
    ]
    for (path, data) in contents {
      let location = fixture.desired + "/mirror/m/" + path
      try FileManager.default.createDirectory(atPath: (location as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
      try data.write(to: URL(fileURLWithPath: location))
    }
    try fixture.writeDesired(sources: ["file://./mirror/m/"], include: ["*.bin", "*.json"])

    let lock = try fixture.reconcile("lock")
    #expect(lock.status == 0, "\(lock.stdout)\(lock.stderr)")
    let text = fixture.lockText()
    #expect(text.contains("    source: \"file://./mirror/m/\"\n"), "\(text)")
    #expect(Self.lockedPaths(text) == ["config.json", "weights.bin"], "\(text)")
    let files = ["config.json", "weights.bin"].map { HubRepoFile(path: $0, data: contents[$0] ?? Data()) }
    for file in files { #expect(text.contains(Self.lockLine(file, git: false)), "\(file.path) in \(text)") }

    let applied = try fixture.apply()
    #expect(applied.status == 0, "\(applied.stdout)\(applied.stderr)")
    for file in files { fixture.expectInstalled(file) }
    #expect(fixture.viewFiles() == Set(files.map(\.path)))
  }

  @Test func lockListsAnS3PrefixThroughItsGlobs() throws {
    // Unsigned: moto verifies the signature of a listing whose prefix holds '/' wrongly.
    let s3 = try S3Fixture.unsigned.get()
    let fixture = try HubFixture()
    try fixture.writeDesired(sources: [s3.source], include: ["*.safetensors", "*.json"])

    let lock = try fixture.reconcile("lock", extra: s3.environment(s3.reader))
    #expect(lock.status == 0, "\(lock.stdout)\(lock.stderr)")
    let text = fixture.lockText()
    #expect(text.contains("    source: \"\(s3.source)\"\n"), "\(text)")
    #expect(Self.lockedPaths(text) == ["config.json", "model.safetensors"], "other objects and other prefixes stay out: \(text)")
    let files = ["config.json", "model.safetensors"].map(s3.file)
    for file in files { #expect(text.contains(Self.lockLine(file, git: false)), "\(file.path) in \(text)") }

    let applied = try fixture.apply(extra: s3.environment(s3.reader))
    #expect(applied.status == 0, "\(applied.stdout)\(applied.stderr)")
    for file in files { fixture.expectInstalled(file) }
    #expect(fixture.viewFiles() == Set(files.map(\.path)))
  }

  @Test func lockListsASignedBucketFromItsRoot() throws {
    let s3 = try S3Fixture.signed.get()
    let fixture = try HubFixture()
    try fixture.writeDesired(sources: ["s3://\(s3.bucket)/"], include: ["m/1/*.json", "m/1/*.safetensors"])

    let lock = try fixture.reconcile("lock", extra: s3.environment(s3.reader))
    #expect(lock.status == 0, "\(lock.stdout)\(lock.stderr)")
    let text = fixture.lockText()
    #expect(Self.lockedPaths(text) == ["m/1/config.json", "m/1/model.safetensors"], "\(text)")
    for path in ["config.json", "model.safetensors"] {
      let file = HubRepoFile(path: s3.prefix + path, data: s3.objects[path] ?? Data())
      #expect(text.contains(Self.lockLine(file, git: false)), "\(path) in \(text)")
    }
  }
}
