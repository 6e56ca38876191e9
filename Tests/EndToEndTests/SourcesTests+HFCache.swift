import Foundation
import Testing
import TestSupport

@testable import ReconcileCore
@testable import ReconcileRuntime

#if canImport(Glibc)
  import Glibc
#endif

/// The Hugging Face cache view (`RECONCILE_HF_CACHE`), read back by the real `huggingface_hub`
/// offline.
extension SourcesTests {
  /// Everything of the standard repository but its README, including a nested non-LFS file.
  static let cacheGlobs = ["*.safetensors", "*.json", "tokenizer/**"]

  /// Asks `huggingface_hub`, offline, for every file, the snapshot and a cache scan.
  static let hubProbe = """
    import json, os, sys
    from huggingface_hub import scan_cache_dir, snapshot_download, try_to_load_from_cache
    spec = json.loads(sys.argv[1])
    def found(path):
        return path if isinstance(path, str) else None
    out = {"by_branch": {}, "by_commit": {}}
    for name in spec["files"]:
        out["by_branch"][name] = found(try_to_load_from_cache(spec["repo"], name, revision="main"))
        out["by_commit"][name] = found(try_to_load_from_cache(spec["repo"], name, revision=spec["commit"]))
    folder = snapshot_download(spec["repo"], revision="main", local_files_only=True)
    out["snapshot"] = folder
    out["snapshot_files"] = sorted(os.path.relpath(os.path.join(d, f), folder) for d, _, names in os.walk(folder) for f in names)
    info = scan_cache_dir()
    out["warnings"] = [str(w) for w in info.warnings]
    out["repos"] = [{"id": r.repo_id, "type": r.repo_type, "files": r.nb_files,
                     "revisions": [{"commit": v.commit_hash, "refs": sorted(v.refs), "files": v.nb_files} for v in r.revisions]}
                    for r in info.repos]
    print(json.dumps(out))
    """

  /// What `hubProbe` printed.
  struct ProbeAnswer: Decodable {
    struct Repo: Decodable {
      struct Revision: Decodable {
        var commit: String
        var refs: [String]
        var files: Int
      }
      var id: String
      var type: String
      var files: Int
      var revisions: [Revision]
    }
    var byBranch: [String: String?]
    var byCommit: [String: String?]
    var snapshot: String
    var snapshotFiles: [String]
    var warnings: [String]
    var repos: [Repo]

    enum CodingKeys: String, CodingKey {
      case snapshot, warnings, repos
      case byBranch = "by_branch", byCommit = "by_commit", snapshotFiles = "snapshot_files"
    }
  }

  /// Every entry under `path` (by relative path) with its inode, change time, kind and link
  /// target: what must stay the same when nothing changes.
  static func tree(_ path: String) -> [String: String] {
    var entries: [String: String] = [:]
    let enumerator = FileManager.default.enumerator(atPath: path)
    while let name = enumerator?.nextObject() as? String {
      var info = stat()
      guard lstat(path + "/" + name, &info) == 0 else { continue }
      let target = (try? FileManager.default.destinationOfSymbolicLink(atPath: path + "/" + name)) ?? ""
      entries[name] = "ino \(info.st_ino) mode \(String(info.st_mode, radix: 8)) ctime \(info.st_ctim.tv_sec).\(info.st_ctim.tv_nsec) -> \(target)"
    }
    return entries
  }

  @Test func theHFCacheViewIsWhatHuggingFaceHubReadsOffline() throws {
    let fixture = try HubFixture()
    let repo = try fixture.publish()
    let files = repo.values.filter { $0.path != "README.md" }.sorted { $0.path < $1.path }
    try fixture.writeDesired(sources: ["hf://org/repo@main"], include: Self.cacheGlobs)
    let lock = try fixture.reconcile("lock")
    #expect(lock.status == 0, "\(lock.stdout)\(lock.stderr)")
    #expect(Self.lockedPaths(fixture.lockText()) == files.map(\.path), "\(fixture.lockText())")

    let withCache = ["RECONCILE_HF_CACHE": fixture.cache]
    let applied = try fixture.apply(extra: withCache)
    #expect(applied.status == 0, "\(applied.stdout)\(applied.stderr)")
    #expect(applied.stdout.contains("Hugging Face cache \(fixture.cache): org/repo@\(HubFixture.commit)"), "\(applied.stdout)")

    // The layout: blobs named by the Hub's etag, hard links into reconcile's store; snapshots as
    // relative symlinks; refs/main holding the commit without a newline.
    let repository = fixture.cache + "/models--org--repo"
    for file in files {
      let blob = Stat(repository + "/blobs/" + file.etag)
      let stored = Stat(fixture.root.blob(file.sha256))
      #expect(blob != nil && blob?.inode == stored?.inode && blob?.device == stored?.device, "blobs/\(file.etag) (\(file.path)) is not a hard link to reconcile's blob")
      let snapshot = "\(repository)/snapshots/\(HubFixture.commit)/\(file.path)"
      let depth = file.path.split(separator: "/").count - 1
      #expect((try? FileManager.default.destinationOfSymbolicLink(atPath: snapshot)) == String(repeating: "../", count: depth + 2) + "blobs/" + file.etag, "\(snapshot)")
      #expect(FileManager.default.contents(atPath: snapshot) == file.data, "\(file.path) through the snapshot")
    }
    let blobNames = (try? FileManager.default.contentsOfDirectory(atPath: repository + "/blobs")) ?? []
    #expect(Set(blobNames) == Set(files.map(\.etag)), "LFS files are named by their sha256, the others by their git blob id")
    #expect(FileManager.default.contents(atPath: repository + "/refs/main") == Data(HubFixture.commit.utf8))

    // huggingface_hub itself, offline, finds every file with the served bytes.
    let spec = try JSONSerialization.data(withJSONObject: ["repo": HubFixture.repo, "commit": HubFixture.commit, "files": files.map(\.path)])
    let probe = try BoundedRun.python(
      Self.hubProbe, [String(decoding: spec, as: UTF8.self)], environment: ["HF_HUB_CACHE": fixture.cache, "HF_HUB_OFFLINE": "1"],
      in: fixture.directory.url)
    #expect(probe.status == 0, "\(probe.stderr)")
    let answer = try JSONDecoder().decode(ProbeAnswer.self, from: Data(probe.stdout.utf8))
    for file in files {
      for (revision, found) in [("main", answer.byBranch[file.path] ?? nil), (HubFixture.commit, answer.byCommit[file.path] ?? nil)] {
        let path = try #require(found, "try_to_load_from_cache(\(file.path), revision: \(revision)) found nothing")
        #expect(FileManager.default.contents(atPath: path) == file.data, "\(path) does not hold the served bytes")
      }
    }
    #expect(answer.snapshot.hasSuffix("/snapshots/\(HubFixture.commit)"), "\(answer.snapshot)")
    #expect(answer.snapshotFiles == files.map(\.path), "\(answer.snapshotFiles)")
    #expect(answer.warnings.isEmpty, "\(answer.warnings)")
    let scanned = answer.repos.filter { $0.id == HubFixture.repo }
    #expect(scanned.count == 1 && scanned.first?.type == "model" && scanned.first?.files == files.count, "\(answer.repos)")
    #expect(scanned.first?.revisions.map(\.commit) == [HubFixture.commit] && scanned.first?.revisions.first?.refs == ["main"], "\(answer.repos)")

    // A second apply changes nothing, in the store or in the cache.
    let before = Self.tree(fixture.cache)
    try fixture.hub.reset()
    let second = try fixture.apply(extra: withCache)
    #expect(second.status == 0, "\(second.stdout)\(second.stderr)")
    #expect(second.stdout.hasPrefix("No changes."), "\(second.stdout)")
    #expect(Self.tree(fixture.cache) == before, "the second apply changed the cache")
    #expect(try fixture.hubRequests().isEmpty)
    #expect(try fixture.cdnRequests().isEmpty)
  }

  /// A source at a branch (`@main`, no lock): the plan pins it to the commit main points to, and
  /// apply publishes that snapshot and writes `refs/main`, so the default revision works offline.
  @Test func aBranchSourceIsPublishedAtItsCommitWithItsRef() throws {
    let fixture = try HubFixture()
    let repo = try fixture.publish()
    let files = repo.values.filter { $0.path != "README.md" }.sorted { $0.path < $1.path }
    try fixture.writeDesired(sources: ["hf://org/repo@main"], files: files.map { FileSpec(path: $0.path, size: Int64($0.data.count), sha256: $0.sha256) })
    let withCache = ["RECONCILE_HF_CACHE": fixture.cache]
    let plan = try fixture.reconcile("plan", extra: withCache)
    #expect(plan.status == 0, "\(plan.stdout)\(plan.stderr)")
    #expect(plan.stdout.contains("to the Hugging Face cache as org/repo@\(HubFixture.commit.prefix(7))"), "\(plan.stdout)")

    let applied = try fixture.apply(extra: withCache)
    #expect(applied.status == 0, "\(applied.stdout)\(applied.stderr)")
    #expect(applied.stdout.contains("Hugging Face cache \(fixture.cache): org/repo@\(HubFixture.commit)"), "\(applied.stdout)")
    let repository = fixture.cache + "/models--org--repo"
    #expect(FileManager.default.contents(atPath: repository + "/refs/main") == Data(HubFixture.commit.utf8))

    let spec = try JSONSerialization.data(withJSONObject: ["repo": HubFixture.repo, "commit": HubFixture.commit, "files": files.map(\.path)])
    let probe = try BoundedRun.python(
      Self.hubProbe, [String(decoding: spec, as: UTF8.self)], environment: ["HF_HUB_CACHE": fixture.cache, "HF_HUB_OFFLINE": "1"],
      in: fixture.directory.url)
    #expect(probe.status == 0, "\(probe.stderr)")
    let answer = try JSONDecoder().decode(ProbeAnswer.self, from: Data(probe.stdout.utf8))
    for file in files {
      let path = try #require(answer.byBranch[file.path] ?? nil, "try_to_load_from_cache(\(file.path), revision: main) found nothing")
      #expect(FileManager.default.contents(atPath: path) == file.data)
    }
    #expect(answer.snapshot.hasSuffix("/snapshots/\(HubFixture.commit)"), "\(answer.snapshot)")
    #expect(answer.snapshotFiles == files.map(\.path), "\(answer.snapshotFiles)")

    // Converged: the branch still points there, so nothing changes and nothing is downloaded.
    try fixture.hub.reset()
    let second = try fixture.apply(extra: withCache)
    #expect(second.status == 0, "\(second.stdout)\(second.stderr)")
    #expect(second.stdout.hasPrefix("No changes."), "\(second.stdout)")
    #expect(try fixture.cdnRequests().isEmpty)
  }
}
