import Foundation
import Testing
import TestSupport

@testable import ReconcileCore
@testable import ReconcileRuntime

/// The scanner on real files: blobs, hard-linked views, symlinks, partial downloads, and the
/// registry's fingerprints deciding what is trusted.
@Suite struct NodeRootScannerTests {
  let directory: RegistryTestDirectory
  let root: NodeRoot

  init() throws {
    directory = try RegistryTestDirectory()
    root = NodeRoot(directory.path("root"))
  }

  /// Writes `text` as a blob (0444) and returns its digest.
  @discardableResult
  func blob(_ text: String) throws -> Digest {
    let digest = SHA256Hasher.digest(Array(text.utf8))
    let path = root.blob(digest)
    try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
    try text.write(toFile: path, atomically: false, encoding: .utf8)
    try FileManager.default.setAttributes([.posixPermissions: 0o444], ofItemAtPath: path)
    return digest
  }

  func link(_ digest: Digest, into variant: VariantID, at path: String) throws {
    let view = root.view(variant) + "/" + path
    try FileManager.default.createDirectory(atPath: (view as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
    try FileManager.default.linkItem(atPath: root.blob(digest), toPath: view)
  }

  func fingerprint(_ path: String) throws -> StatFingerprint { try #require(FileStatus.of(path)).fingerprint }

  @Test func missingRootIsAnEmptyNode() {
    let observed = NodeRootScanner(root: root).scan(verified: [:])
    #expect(observed.blobs.isEmpty && observed.variants.isEmpty && observed.partials.isEmpty)
    #expect(observed.filesystem == nil, "a root that does not exist yet says nothing about the node's free space")
  }

  @Test func sha256MatchesOpenSSLReference() {
    #expect(SHA256Hasher.digest(Array("abc".utf8)).hex == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    #expect(SHA256Hasher.digest([UInt8]()).hex == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
  }

  @Test func trustFollowsTheRecordedFingerprint() throws {
    let verified = try blob("verified content")
    let never = try blob("never hashed")
    let grown = try blob("will grow")
    let touched = try blob("will be touched")
    let variant = VariantID(name: "m", version: "1", variant: "fp16")
    try link(verified, into: variant, at: "a/weights.bin")
    var records: [StatFingerprint: Digest] = [:]
    for digest in [verified, grown, touched] { records[try fingerprint(root.blob(digest))] = digest }
    try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: root.blob(grown))
    try "will grow, and did".write(toFile: root.blob(grown), atomically: false, encoding: .utf8)
    try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSince1970: 1_000)], ofItemAtPath: root.blob(touched))

    let observed = NodeRootScanner(root: root).scan(verified: records)
    #expect(observed.blobs[verified]?.verification == .verified)
    #expect(observed.blobs[never]?.verification == .neverVerified)
    #expect(observed.blobs[grown]?.verification == .sizeChanged)
    #expect(observed.blobs[touched]?.verification == .modified)
    let view = try #require(observed.variants[variant]?.files["a/weights.bin"])
    #expect(view.verifiedDigest == verified)
    #expect(try view.isLink(to: #require(observed.blobs[verified])))
  }

  @Test func symlinksAreRecordedNotFollowed() throws {
    let outside = directory.path("outside")
    try FileManager.default.createDirectory(atPath: outside, withIntermediateDirectories: true)
    try "secret".write(toFile: outside + "/file", atomically: false, encoding: .utf8)
    let variant = VariantID(name: "m", version: "1", variant: "fp16")
    try FileManager.default.createDirectory(atPath: root.view(variant), withIntermediateDirectories: true)
    try FileManager.default.createSymbolicLink(atPath: root.view(variant) + "/file", withDestinationPath: outside + "/file")
    try FileManager.default.createSymbolicLink(atPath: root.view(variant) + "/dir", withDestinationPath: outside)
    // A whole model directory that is a link out of the root is not a variant at all.
    try FileManager.default.createDirectory(atPath: root.models + "/linked", withIntermediateDirectories: true)
    try FileManager.default.createSymbolicLink(atPath: root.models + "/linked/1", withDestinationPath: outside)

    let observed = NodeRootScanner(root: root).scan(verified: [:])
    let files = try #require(observed.variants[variant]?.files)
    #expect(Set(files.keys) == ["file", "dir"])
    #expect(files.values.allSatisfy { !$0.isRegularFile && $0.verifiedDigest == nil })
    #expect(observed.variants.keys.allSatisfy { $0.model.name != "linked" })
  }

  @Test func blobNamesThatAreNotDigestsAreIgnored() throws {
    try blob("real")
    try FileManager.default.createDirectory(atPath: root.blobs + "/zz", withIntermediateDirectories: true)
    try "junk".write(toFile: root.blobs + "/zz/not-a-digest", atomically: false, encoding: .utf8)
    #expect(NodeRootScanner(root: root).scan(verified: [:]).blobs.count == 1)
  }

  @Test func partialDownloadsAreListed() throws {
    let digest = SHA256Hasher.digest(Array("partial".utf8))
    try FileManager.default.createDirectory(atPath: root.temporary, withIntermediateDirectories: true)
    try "par".write(toFile: "\(root.temporary)/\(digest.hex).4242.part", atomically: false, encoding: .utf8)
    try "x".write(toFile: "\(root.temporary)/stray.tmp", atomically: false, encoding: .utf8)
    let partials = NodeRootScanner(root: root).scan(verified: [:]).partials
    #expect(partials.map(\.digest) == [digest])
    #expect(partials.first?.bytes == 3)
  }

  @Test func registryRoundTripMakesAScannedRootConverge() throws {
    let desiredText = "hello weights"
    let digest = try blob(desiredText)
    let variant = VariantID(name: "m", version: "1", variant: "fp16")
    try link(digest, into: variant, at: "w.bin")
    try FileManager.default.createDirectory(atPath: root.state, withIntermediateDirectories: true)
    let registry: any VerifiedFileCache = try SQLiteRegistry(path: root.registry)
    try registry.recordVerified([(try fingerprint(root.blob(digest)), digest)], at: Date())
    let desired = DesiredState(models: [
      Model(name: "m", version: "1", sources: [SourceURL(scheme: .https, url: "https://x/")],
            variants: [Variant(name: "fp16", files: [FileSpec(path: "w.bin", size: Int64(desiredText.utf8.count), sha256: digest)])]),
    ])
    let observed = NodeRootScanner(root: root).scan(verified: try registry.verifiedDigests())
    #expect(try Planner.plan(desired, observed, on: "n", at: Date()).changes.isEmpty)
    #expect(Session.digest(of: observed) == Session.digest(of: NodeRootScanner(root: root).scan(verified: try registry.verifiedDigests())))
  }
}

/// Reading a desired-state directory from disk and the git commit it is at.
@Suite struct DesiredDirectoryTests {
  @Test func readsOnlyDesiredStateFilesInNameOrder() throws {
    let directory = try RegistryTestDirectory()
    for name in ["b.yaml", "a.toml", "c.yml", "notes.md", ".hidden.yaml"] {
      try "x".write(toFile: directory.path(name), atomically: false, encoding: .utf8)
    }
    let files = try DesiredDirectory(path: directory.url.path).files()
    #expect(files.map { ($0.path as NSString).lastPathComponent } == ["a.toml", "b.yaml", "c.yml"])
  }

  @Test func emptyAndMissingDirectoriesSayWhatToDo() throws {
    let directory = try RegistryTestDirectory()
    #expect(throws: DesiredDirectory.ReadError.self) { try DesiredDirectory(path: directory.url.path).files() }
    do {
      _ = try DesiredDirectory(path: directory.url.path).files()
    } catch {
      #expect(error.description == "desired state '\(directory.url.path)' has no *.yaml, *.yml or *.toml files")
    }
  }

  @Test func gitCommitIsReadWithoutRunningGit() throws {
    let directory = try RegistryTestDirectory()
    let git = directory.path(".git")
    try FileManager.default.createDirectory(atPath: git + "/refs/heads", withIntermediateDirectories: true)
    try FileManager.default.createDirectory(atPath: directory.path("Desired"), withIntermediateDirectories: true)
    try "ref: refs/heads/main\n".write(toFile: git + "/HEAD", atomically: false, encoding: .utf8)
    let loose = String(repeating: "a", count: 40)
    try (loose + "\n").write(toFile: git + "/refs/heads/main", atomically: false, encoding: .utf8)
    #expect(DesiredDirectory(path: directory.path("Desired")).gitCommit() == loose)
    // Packed refs are read when the loose ref is gone.
    try FileManager.default.removeItem(atPath: git + "/refs/heads/main")
    let packed = String(repeating: "b", count: 40)
    try "# pack-refs with: peeled fully-peeled sorted\n\(packed) refs/heads/main\n".write(toFile: git + "/packed-refs", atomically: false, encoding: .utf8)
    #expect(DesiredDirectory(path: directory.path("Desired")).gitCommit() == packed)
  }

  @Test func gitCommitOfARealRepository() throws {
    let directory = try RegistryTestDirectory()
    func git(_ arguments: String...) throws -> String {
      let run = try ChildProcess.run("/usr/bin/env", ["git", "-C", directory.url.path, "-c", "user.name=t", "-c", "user.email=t@example.com"] + arguments)
      return run.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }
    _ = try git("init", "-q")
    try "models: []\n".write(toFile: directory.path("models.yaml"), atomically: false, encoding: .utf8)
    _ = try git("add", ".")
    _ = try git("commit", "-qm", "first")
    #expect(DesiredDirectory(path: directory.url.path).gitCommit() == (try git("rev-parse", "HEAD")))
  }
}
