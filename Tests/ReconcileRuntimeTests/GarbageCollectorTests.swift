import Foundation
import Testing

@testable import ReconcileCore
@testable import ReconcileRuntime

#if canImport(Glibc)
  import Glibc
#endif

/// A node root on real files for gc and last-use tests: blobs, hard-linked views, a registry.
struct GarbageRoot {
  let directory: RegistryTestDirectory
  let root: NodeRoot

  init() throws {
    directory = try RegistryTestDirectory()
    root = NodeRoot(directory.path("root"))
    try BlobStore(root: root).prepare()
  }

  /// Writes `size` bytes of `seed` as a blob (0444) and returns its digest.
  @discardableResult
  func blob(_ seed: UInt8, size: Int) throws -> Digest {
    let bytes = [UInt8](repeating: seed, count: size)
    let digest = SHA256Hasher.digest(bytes)
    let path = root.blob(digest)
    try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
    try Data(bytes).write(to: URL(fileURLWithPath: path))
    try FileManager.default.setAttributes([.posixPermissions: 0o444], ofItemAtPath: path)
    return digest
  }

  /// Makes a hard link to blob `digest` at `path` under the root.
  func link(_ digest: Digest, at path: String) throws {
    let target = root.path + "/" + path
    try FileManager.default.createDirectory(atPath: (target as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
    try FileManager.default.linkItem(atPath: root.blob(digest), toPath: target)
  }

  /// Writes `size` bytes at `path` under the root, modified `age` seconds ago.
  func file(_ path: String, size: Int, age: TimeInterval = 0) throws {
    let target = root.path + "/" + path
    try FileManager.default.createDirectory(atPath: (target as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
    try Data(repeating: 7, count: size).write(to: URL(fileURLWithPath: target))
    try FileManager.default.setAttributes([.modificationDate: Date().addingTimeInterval(-age)], ofItemAtPath: target)
  }

  /// Every path under the root except the registry's files, for before/after comparisons.
  func everything() -> [String] {
    var paths: [String] = []
    let enumerator = FileManager.default.enumerator(atPath: root.path)
    while let path = enumerator?.nextObject() as? String {
      if !path.contains("registry.sqlite") { paths.append(path) }
    }
    return paths.sorted()
  }

  func exists(_ path: String) -> Bool { FileStatus.of(path) != nil }
}

/// `reconcile gc` on a real root: what is garbage, what removing it frees, and that it removes
/// exactly that.
@Suite struct GarbageCollectorTests {
  let disk: GarbageRoot
  var root: NodeRoot { disk.root }
  let view = VariantID(name: "m", version: "1", variant: "fp16")

  /// Kept: a blob linked from a view, one linked from a tenant view (and another kept blob also
  /// linked from a trash entry). Garbage: an orphan, an orphan also linked from the trash, an
  /// orphan also linked from outside the root (frees nothing), one reached only by a symlink,
  /// a stale partial with its .meta, a stale .meta alone, a quarantined file, the trash entry.
  /// Not garbage: a fresh partial.
  struct Layout {
    var viewed: Digest
    var tenant: Digest
    var orphan: Digest
    var trashed: Digest
    var external: Digest
    var symlinked: Digest
  }

  init() throws { disk = try GarbageRoot() }

  func layout() throws -> Layout {
    let layout = Layout(
      viewed: try disk.blob(1, size: 100), tenant: try disk.blob(2, size: 200), orphan: try disk.blob(3, size: 1000),
      trashed: try disk.blob(4, size: 2000), external: try disk.blob(5, size: 4000), symlinked: try disk.blob(6, size: 500))
    try disk.link(layout.viewed, at: view.viewPath + "/w.bin")
    try disk.link(layout.tenant, at: "tenants/research/m/w.bin")
    try disk.link(layout.trashed, at: ".reconcile/trash/old@1:fp16.1-2/a.bin")
    try disk.link(layout.viewed, at: ".reconcile/trash/old@1:fp16.1-2/b.bin")
    try FileManager.default.createDirectory(atPath: disk.directory.path("cache"), withIntermediateDirectories: true)
    try FileManager.default.linkItem(atPath: root.blob(layout.external), toPath: disk.directory.path("cache/blob"))
    try FileManager.default.createSymbolicLink(atPath: root.view(view) + "/link.bin", withDestinationPath: root.blob(layout.symlinked))
    let part = String(repeating: "a", count: 64) + ".42-7.part"
    try disk.file(".reconcile/tmp/\(part)", size: 300, age: 2 * 86400)
    try disk.file(".reconcile/tmp/\(part).meta", size: 20, age: 2 * 86400)
    try disk.file(".reconcile/tmp/\(String(repeating: "b", count: 64)).9-9.part.meta", size: 10, age: 3 * 86400)
    try disk.file(".reconcile/tmp/\(String(repeating: "c", count: 64)).1-1.part", size: 700, age: 60)
    try disk.file(".reconcile/quarantine/\(String(repeating: "d", count: 64)).5-5", size: 50)
    return layout
  }

  func relative(_ item: GarbageItem) -> String { String(item.paths[0].dropFirst(root.path.count + 1)) }

  @Test func findsExactlyTheGarbage() throws {
    let layout = try layout()
    let report = GarbageCollector(root: root).find()
    let found = Set(report.items.map { "\($0.kind.rawValue) \(relative($0))" })
    let part = String(repeating: "a", count: 64) + ".42-7.part"
    #expect(found == [
      "orphan blobs/sha256/\(layout.orphan.hex.prefix(2))/\(layout.orphan.hex)",
      "orphan blobs/sha256/\(layout.trashed.hex.prefix(2))/\(layout.trashed.hex)",
      "orphan blobs/sha256/\(layout.external.hex.prefix(2))/\(layout.external.hex)",
      "orphan blobs/sha256/\(layout.symlinked.hex.prefix(2))/\(layout.symlinked.hex)",
      "partial .reconcile/tmp/\(part)",
      "temporary .reconcile/tmp/\(String(repeating: "b", count: 64)).9-9.part.meta",
      "quarantined .reconcile/quarantine/\(String(repeating: "d", count: 64)).5-5",
      "trash .reconcile/trash/old@1:fp16.1-2",
    ])
    #expect(report.items.map(\.kind) == [.orphanBlob, .orphanBlob, .orphanBlob, .orphanBlob, .partial, .temporary, .quarantined, .trash])
    let partial = try #require(report.items.first { $0.kind == .partial })
    #expect(partial.paths.count == 2 && partial.bytes == 320)
    #expect(report.items.first { $0.kind == .trash }?.bytes == 2100)
    // orphan 1000 + trashed 2000 (its trash link goes too) + symlinked 500 + partial 320 + lone meta 10
    // + quarantine 50; the externally linked blob and the viewed blob's trash link free nothing.
    #expect(report.freedBytes == 1000 + 2000 + 500 + 320 + 10 + 50)
  }

  @Test func findDeletesNothing() throws {
    _ = try layout()
    let before = disk.everything()
    let report = GarbageCollector(root: root).find()
    #expect(!report.items.isEmpty)
    #expect(disk.everything() == before)
  }

  @Test func partAgeDecidesWhichPartialsAreStale() throws {
    _ = try layout()
    let report = GarbageCollector(root: root, partAge: 30).find()
    let partials = report.items.filter { $0.kind == .partial }.map { ($0.paths[0] as NSString).lastPathComponent }
    #expect(Set(partials.map { String($0.prefix(1)) }) == ["a", "c"], "the 60-second-old partial is stale after 30 s: \(partials)")
  }

  @Test func collectRemovesExactlyTheGarbageAndKeepsTheRegistryTrusting() throws {
    let layout = try layout()
    let registry: any VerifiedFileCache = try SQLiteRegistry(path: root.registry)
    for digest in [layout.viewed, layout.tenant, layout.orphan, layout.trashed, layout.external, layout.symlinked] {
      try registry.recordVerified([(try #require(FileStatus.of(root.blob(digest))).fingerprint, digest)], at: Date())
    }
    let kept = disk.everything().filter { path in
      !(path.hasPrefix(".reconcile/trash/") || path.hasPrefix(".reconcile/quarantine/") || path.contains(".9-9.") || path.contains(".42-7.")
        || [layout.orphan, layout.trashed, layout.external, layout.symlinked].contains { path.hasSuffix($0.hex) })
    }
    usleep(20_000)  // so that unlinking the trash's hard link gives the viewed blob a new ctime
    let collector = GarbageCollector(root: root)
    let report = collector.find()
    let result = collector.collect(report, registry: registry)

    #expect(result.failures.isEmpty)
    #expect(result.removed.count == report.items.count)
    #expect(result.freedBytes == report.freedBytes)
    // Empty blob prefix directories go with their orphans.
    let keptPrefixes = Set([layout.viewed, layout.tenant].map { "blobs/sha256/\($0.hex.prefix(2))" })
    #expect(disk.everything() == kept.filter { path in
      keptPrefixes.contains(path) || ![layout.orphan, layout.trashed, layout.external, layout.symlinked].contains { path == "blobs/sha256/\($0.hex.prefix(2))" }
    })
    #expect(disk.exists(disk.directory.path("cache/blob")), "a link outside the root is not gc's to remove")
    #expect(collector.find().items.isEmpty)

    // The removed blobs' records are gone; the kept blobs are still trusted without a rehash.
    let records = try registry.verifiedDigests()
    #expect(Set(records.values) == [layout.viewed, layout.tenant])
    #expect(result.prunedRecords == 4)
    let observed = NodeRootScanner(root: root).scan(verified: records)
    #expect(observed.blobs[layout.viewed]?.verification == .verified)
    #expect(observed.blobs[layout.tenant]?.verification == .verified)
  }

  @Test func emptyRootHasNoGarbage() throws {
    #expect(GarbageCollector(root: root).find().items.isEmpty)
    #expect(GarbageCollector(root: NodeRoot(disk.directory.path("missing"))).find().items.isEmpty)
  }
}

/// Last use: access times of view files merged with the registry's `reconcile touch` records.
@Suite struct TouchLastUseTests {
  let disk: GarbageRoot
  let variant = VariantID(name: "m", version: "1", variant: "fp16")
  let other = VariantID(name: "m", version: "2", variant: "q8")
  let base = Date(timeIntervalSince1970: 1_750_000_000)

  init() throws { disk = try GarbageRoot() }

  /// Sets a file's access and modification times (the blob's too: they are one inode).
  func setTimes(_ path: String, access: Date, modify: Date) throws {
    func spec(_ date: Date) -> timespec {
      timespec(tv_sec: Int(date.timeIntervalSince1970.rounded(.down)), tv_nsec: Int((date.timeIntervalSince1970.truncatingRemainder(dividingBy: 1)) * 1e9))
    }
    let times = [spec(access), spec(modify)]
    #expect(utimensat(AT_FDCWD, path, times, AT_SYMLINK_NOFOLLOW) == 0, "utimensat \(path): \(String(cString: strerror(errno)))")
  }

  func held(_ id: VariantID, seed: UInt8) throws -> String {
    let digest = try disk.blob(seed, size: 64)
    try disk.link(digest, at: id.viewPath + "/w.bin")
    return disk.root.view(id) + "/w.bin"
  }

  @Test func accessAfterTheLastWriteIsAUse() throws {
    let path = try held(variant, seed: 1)
    try setTimes(path, access: base.addingTimeInterval(3600), modify: base)
    #expect(NodeRootScanner(root: disk.root).scan(verified: [:]).lastUse == [variant: base.addingTimeInterval(3600)])
  }

  /// On `noatime`, and on `relatime` before the first read, the access time is not after the
  /// last write: it says nothing about use.
  @Test(arguments: [0.0, -60.0])
  func accessNotAfterTheLastWriteIsNoUse(offset: Double) throws {
    let path = try held(variant, seed: 1)
    try setTimes(path, access: base.addingTimeInterval(offset), modify: base)
    #expect(NodeRootScanner(root: disk.root).scan(verified: [:]).lastUse.isEmpty)
  }

  @Test func theLaterOfAccessTimeAndRecordedUseWins() throws {
    try setTimes(try held(variant, seed: 1), access: base.addingTimeInterval(100), modify: base)
    try setTimes(try held(other, seed: 2), access: base.addingTimeInterval(100), modify: base)
    let recorded = [variant: base.addingTimeInterval(50), other: base.addingTimeInterval(500)]
    let lastUse = NodeRootScanner(root: disk.root).scan(verified: [:], lastUse: recorded).lastUse
    #expect(lastUse == [variant: base.addingTimeInterval(100), other: base.addingTimeInterval(500)])
  }

  @Test func theLatestFileOfAVariantCounts() throws {
    let first = try held(variant, seed: 1)
    let second = try disk.blob(2, size: 64)
    try disk.link(second, at: variant.viewPath + "/dir/x.bin")
    try setTimes(first, access: base.addingTimeInterval(10), modify: base)
    try setTimes(disk.root.view(variant) + "/dir/x.bin", access: base.addingTimeInterval(20), modify: base)
    #expect(NodeRootScanner(root: disk.root).scan(verified: [:]).lastUse[variant] == base.addingTimeInterval(20))
  }

  @Test func hashingIsNotAUse() throws {
    let path = try held(variant, seed: 1)
    try setTimes(path, access: base, modify: base.addingTimeInterval(10))
    _ = try FileHasher.digest(ofFileAt: path)
    _ = try FileHasher.digestOnThisThread(ofFileAt: path)
    #expect(NodeRootScanner(root: disk.root).scan(verified: [:]).lastUse.isEmpty, "verify and apply read blobs with O_NOATIME")
  }

  @Test func heldVariantsListsViewDirectoriesOnly() throws {
    _ = try held(other, seed: 2)
    _ = try held(variant, seed: 1)
    try disk.file("models/stray.txt", size: 1)
    #expect(NodeRootScanner(root: disk.root).heldVariants() == [variant, other])
  }

  @Test func touchRecordsReachTheScan() throws {
    _ = try held(variant, seed: 1)
    let ledger: any NodeLedger = try SQLiteRegistry(path: disk.root.registry).ledger(node: "gpu-a-01")
    try ledger.recordUse(variant, at: base)
    let observed = NodeRootScanner(root: disk.root).scan(verified: [:], lastUse: try ledger.lastUse())
    #expect(observed.lastUse[variant] == base)
  }
}
