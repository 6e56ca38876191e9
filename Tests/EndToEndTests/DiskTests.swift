import Foundation
import Testing
import TestSupport

@testable import ReconcileCore
@testable import ReconcileRuntime

#if canImport(Glibc)
  import Glibc
#endif

/// A full disk, last use and gc on the built binary: a real tmpfs filled by another writer in
/// the middle of a download, `touch` then `status`, and `gc --dry-run` then `gc`.
@Suite struct DiskTests {
  // MARK: A full disk

  @Test func diskFilledMidDownloadFailsCleanlyAndTheNextApplyConverges() throws {
    let fixture = try ApplyFixture()
    let disk = try TmpfsMount(at: fixture.root.path, size: "24m")
    // Unmounted before the fixture's directory is removed.
    defer { withExtendedLifetime(fixture) { disk.unmount() } }

    let small = try fixture.makeFile("alpha/model.bin", size: 1 << 20)
    let alpha = ModelSpec(name: "alpha", sources: [fixture.source("alpha")], variants: ["fp16": ["model.bin": small]])
    try fixture.writeDesired([alpha])
    let first = try fixture.apply()
    try #require(first.status == 0, "\(first.stdout)\(first.stderr)")

    let weights = try fixture.makeFile("beta/weights.bin", size: 16 << 20)
    let config = try fixture.makeFile("beta/config.json", size: 64 << 10)
    let beta = ModelSpec(name: "beta", sources: [fixture.source("beta")], variants: ["fp16": ["weights.bin": weights, "config.json": config]])
    try fixture.writeDesired([alpha, beta])
    try fixture.server.behave(path: "/beta/weights.bin", mode: .throttle, rate: 2 << 20)

    let apply = try fixture.start("apply", ["--auto-approve"])
    let partials = { fixture.temporaryFiles().filter { $0.hasSuffix(".part") } }
    // Fill only once the small download is in place, so that it is the throttled one that
    // runs out of space however slowly the machine runs.
    let started = waitUntil(timeout: 60) {
      let writing = (partials().compactMap { Stat(fixture.root.temporary + "/" + $0)?.size }.max() ?? 0) > 0
      return (writing && Stat(fixture.view("beta", "fp16", "config.json")) != nil) || !apply.isRunning
    }
    try #require(started && apply.isRunning, "the throttled download should be writing its partial file")
    // Another process takes every free byte while the download runs.
    let filler = fixture.root.path + "/filler"
    let filled = try Self.fill(filler)
    #expect(filled > 0)
    let failed = try apply.wait(timeout: 60)

    #expect(failed.status == 1, "\(failed.stdout)\(failed.stderr)")
    let line = failed.stderr.split(separator: "\n").map(String.init).first { $0.contains("disk full") } ?? ""
    #expect(line.contains("download beta@1:fp16 file weights.bin"), "names the model@version:variant and file: \(failed.stderr)")
    #expect(line.contains("disk full on node e2e (root \(fixture.root.path))"), "names the node: \(failed.stderr)")
    let missing = line.firstMatch(of: /needed (\d+) more bytes/).flatMap { Int($0.1) } ?? 0
    #expect(missing > 0 && missing <= weights.size, "names the bytes missing: \(failed.stderr)")
    #expect(failed.stdout.contains("Apply failed: 1 of "), "\(failed.stdout)")
    #expect(fixture.temporaryFiles().filter { $0.hasSuffix(".part") || $0.hasSuffix(".meta") }.isEmpty, "\(fixture.temporaryFiles())")
    #expect(Stat(fixture.blob(weights)) == nil && Stat(fixture.view("beta", "fp16", "weights.bin")) == nil)
    // What was verified stays, and a download that fitted finished.
    fixture.expectLinked(fixture.view("alpha", "fp16", "model.bin"), to: small)
    fixture.expectLinked(fixture.view("beta", "fp16", "config.json"), to: config)

    // Space comes back; the next apply converges.
    try FileManager.default.removeItem(atPath: filler)
    try fixture.server.reset()
    let second = try fixture.apply()
    #expect(second.status == 0, "\(second.stdout)\(second.stderr)")
    fixture.expectLinked(fixture.view("beta", "fp16", "weights.bin"), to: weights)
    fixture.expectLinked(fixture.view("alpha", "fp16", "model.bin"), to: small)
    let plan = try fixture.reconcile("plan", ["--detailed-exitcode"])
    #expect(plan.status == 0, "\(plan.stdout)\(plan.stderr)")
    #expect(fixture.temporaryFiles().filter { $0.hasSuffix(".part") }.isEmpty)

    // A desired state that cannot fit the 24 MiB minus min_free fails before any byte moves.
    let gamma = try fixture.makeFile("gamma/big.bin", size: 8 << 20)
    try fixture.writeDesired([alpha, beta, ModelSpec(name: "gamma", sources: [fixture.source("gamma")], variants: ["fp16": ["big.bin": gamma]])])
    try fixture.server.reset()
    let refused = try fixture.apply()
    #expect(refused.status == 1)
    #expect(refused.stderr.contains("error: node 'e2e' needs "), "\(refused.stderr)")
    #expect(refused.stderr.contains("minus min_free 10%"), "\(refused.stderr)")
    #expect(try fixture.requests().isEmpty)
    #expect(fixture.temporaryFiles().filter { $0.hasSuffix(".part") }.isEmpty)
    fixture.expectLinked(fixture.view("beta", "fp16", "weights.bin"), to: weights)
  }

  /// Writes zeros to `path` until the filesystem is full; the bytes written.
  static func fill(_ path: String) throws -> Int64 {
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
    guard fd >= 0 else { throw Binary.Failure(description: "open \(path): \(String(cString: strerror(errno)))") }
    defer { close(fd) }
    var total: Int64 = 0
    for chunk in [1 << 20, 4096, 512] {
      let zeros = [UInt8](repeating: 0, count: chunk)
      while true {
        let count = write(fd, zeros, chunk)
        if count < 0 && errno == EINTR { continue }
        guard count > 0 else { break }
        total += Int64(count)
      }
    }
    return total
  }

  // MARK: Last use

  @Test func touchRecordsAUseThatStatusShows() throws {
    let fixture = try ApplyFixture()
    let file = try fixture.makeFile("alpha/model.bin", size: 64 << 10)
    try fixture.writeDesired([ModelSpec(name: "alpha", sources: [fixture.source("alpha")], variants: ["fp16": ["model.bin": file], "q8": ["model.bin": file]])])
    let applied = try fixture.apply()
    try #require(applied.status == 0, "\(applied.stdout)\(applied.stderr)")
    // Nothing read the files since they were written: no use yet.
    let before = try fixture.reconcile("status")
    #expect(Self.lastUsed(before.stdout, variant: "fp16") == "never", "\(before.stdout)")

    let touched = try fixture.reconcile("touch", ["alpha@1:fp16"])
    #expect(touched.status == 0, "\(touched.stderr)")
    #expect(touched.stdout.hasPrefix("Recorded use of alpha@1:fp16 at "), "\(touched.stdout)")
    let after = try fixture.reconcile("status")
    #expect(Self.lastUsed(after.stdout, variant: "fp16")?.hasSuffix(" s ago") == true, "\(after.stdout)")
    #expect(Self.lastUsed(after.stdout, variant: "q8") == "never", "\(after.stdout)")
    let json = try fixture.reconcile("status", ["--json"])
    #expect(json.stdout.contains("\"lastUsed\" : \""), "\(json.stdout)")

    let all = try fixture.reconcile("touch", ["alpha"])
    #expect(all.stdout.contains("alpha@1:fp16, alpha@1:q8"), "\(all.stdout)")

    let unknown = try fixture.reconcile("touch", ["alpha@2"])
    #expect(unknown.status == 1)
    #expect(unknown.stderr.contains("error: no variant matching 'alpha@2' is held on node e2e"), "\(unknown.stderr)")
    #expect(unknown.stderr.contains("it holds alpha@1:fp16, alpha@1:q8"), "\(unknown.stderr)")
    let malformed = try fixture.reconcile("touch", ["alpha@"])
    #expect(malformed.status == 1)
    #expect(malformed.stderr.contains("is not MODEL, MODEL@VERSION or MODEL@VERSION:VARIANT"), "\(malformed.stderr)")
  }

  /// The LAST USED cell of `alpha`'s `variant` row in a status table.
  static func lastUsed(_ table: String, variant: String) -> String? {
    guard let row = table.split(separator: "\n").first(where: { $0.hasPrefix("alpha ") && $0.split(separator: " ").dropFirst(2).first == Substring(variant) }) else { return nil }
    let cells = row.split(separator: "  ").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    return cells.count >= 2 ? cells[cells.count - 2] : nil
  }

  // MARK: gc

  @Test func gcDryRunListsAndDeletesNothingThenGcDeletesExactlyTheGarbage() throws {
    let fixture = try ApplyFixture()
    let file = try fixture.makeFile("alpha/model.bin", size: 256 << 10)
    try fixture.writeDesired([ModelSpec(name: "alpha", sources: [fixture.source("alpha")], variants: ["fp16": ["model.bin": file]])])
    let applied = try fixture.apply()
    try #require(applied.status == 0, "\(applied.stdout)\(applied.stderr)")

    let orphan = try fixture.makeFile(fixture.directory.path + "/orphan.bin", size: 100_000)
    try FileManager.default.createDirectory(atPath: (fixture.blob(orphan) as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
    try FileManager.default.copyItem(atPath: orphan.location, toPath: fixture.blob(orphan))
    let stale = fixture.root.temporary + "/\(orphan.digest.hex).77-1.part"
    try Data(repeating: 1, count: 30_000).write(to: URL(fileURLWithPath: stale))
    try FileManager.default.setAttributes([.modificationDate: Date().addingTimeInterval(-2 * 86400)], ofItemAtPath: stale)
    let fresh = fixture.root.temporary + "/\(file.digest.hex).78-1.part"
    try Data(repeating: 2, count: 1000).write(to: URL(fileURLWithPath: fresh))
    let quarantined = fixture.root.state + "/quarantine/\(file.digest.hex).79-1"
    try Data(repeating: 3, count: 5000).write(to: URL(fileURLWithPath: quarantined))
    let garbage = [fixture.blob(orphan), stale, quarantined]

    let dryRun = try fixture.reconcile("gc", ["--dry-run"])
    #expect(dryRun.status == 0, "\(dryRun.stderr)")
    #expect(dryRun.stdout.contains("(dry run: nothing is deleted)"), "\(dryRun.stdout)")
    for (label, path) in zip(["orphan blob", "stale partial", "quarantined"], garbage) {
      let relative = String(path.dropFirst(fixture.root.path.count + 1))
      #expect(dryRun.stdout.split(separator: "\n").contains { $0.contains(label) && $0.contains(relative) }, "\(label) \(relative): \(dryRun.stdout)")
    }
    #expect(!dryRun.stdout.contains(".78-1.part"), "a fresh partial is not garbage: \(dryRun.stdout)")
    #expect(dryRun.stdout.contains("Would free 135000 bytes (131.84 KiB): 1 orphan blob, 1 stale partial download, 1 quarantined file."), "\(dryRun.stdout)")
    for path in garbage + [fresh] { #expect(Stat(path) != nil, "dry run deleted \(path)") }

    let collected = try fixture.reconcile("gc")
    #expect(collected.status == 0, "\(collected.stderr)")
    #expect(collected.stdout.contains("Freed 135000 bytes (131.84 KiB): 1 orphan blob, 1 stale partial download, 1 quarantined file."), "\(collected.stdout)")
    for path in garbage { #expect(Stat(path) == nil, "gc left \(path)") }
    #expect(Stat(fresh) != nil, "gc removed a fresh partial")
    #expect(fixture.blobNames() == [file.digest.hex])
    fixture.expectLinked(fixture.view("alpha", "fp16", "model.bin"), to: file)
    let plan = try fixture.reconcile("plan", ["--detailed-exitcode"])
    #expect(plan.status == 0, "\(plan.stdout)\(plan.stderr)")

    let again = try fixture.reconcile("gc")
    #expect(again.status == 0)
    #expect(again.stdout.contains("Freed 0 bytes: nothing to collect."), "\(again.stdout)")
    let badAge = try fixture.reconcile("gc", ["--part-age", "soon"])
    #expect(badAge.status != 0)
  }
}

/// A tmpfs of a given size mounted for one test, so that it can really fill up. Mounting needs
/// root; without it the test fails and says so, rather than passing without testing anything.
final class TmpfsMount {
  let path: String
  private var mounted = false

  init(at path: String, size: String) throws {
    guard getuid() == 0 else {
      throw Binary.Failure(description: "this test mounts a \(size) tmpfs as the node root, which needs root (running as uid \(getuid())); run 'make test' as root")
    }
    self.path = path
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    let result = try Self.run("/bin/mount", ["-t", "tmpfs", "-o", "size=\(size)", "tmpfs", path])
    guard result.status == 0 else { throw Binary.Failure(description: "mount -t tmpfs on \(path) failed (\(result.status)): \(result.output)") }
    mounted = true
  }

  deinit { unmount() }

  /// Unmounts (lazily when something still holds it open); safe to call twice.
  func unmount() {
    guard mounted else { return }
    mounted = false
    if (try? Self.run("/bin/umount", [path]))?.status != 0 { _ = try? Self.run("/bin/umount", ["-l", path]) }
  }

  static func run(_ tool: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
    let run = try ChildProcess.run(tool, arguments)
    return (run.terminationStatus, run.stdout + run.stderr)
  }
}
