import Foundation
import Testing
import TestSupport

@testable import ReconcileCore
@testable import ReconcileRuntime

#if canImport(Glibc)
  import Glibc
#endif

/// Tenant views with real unix users and groups, quota errors and group checks, on the built
/// binary. The isolation test creates two groups and two users (root only; CI runs as root) and
/// deletes them when it ends.
@Suite(.serialized) struct TenantTests {
  /// Two models from a `file://` mirror only root can read; `shared.json` is in both.
  struct Mirror {
    var alpha: ServedFile
    var beta: ServedFile
    var shared: ServedFile
  }

  static func mirror(_ fixture: ApplyFixture) throws -> Mirror {
    let alpha = try fixture.makeFile("alpha/weights.bin", size: 256 << 10)
    let beta = try fixture.makeFile("beta/weights.bin", size: 64 << 10)
    let shared = try fixture.makeFile("alpha/shared.json", size: 1000)
    try fixture.copy(shared, to: "beta/shared.json")
    try fixture.writeDesired([
      ModelSpec(name: "alpha", sources: ["file://\(fixture.mirror)/alpha/"], variants: ["raw": ["weights.bin": alpha, "cfg/shared.json": shared]]),
      ModelSpec(name: "beta", sources: ["file://\(fixture.mirror)/beta/"], variants: ["raw": ["weights.bin": beta, "shared.json": shared]]),
    ])
    guard chmod(fixture.mirror, 0o700) == 0, chmod(fixture.directory.path, 0o755) == 0 else { throw Binary.Failure(description: "chmod failed") }
    return Mirror(alpha: alpha, beta: beta, shared: shared)
  }

  /// `tenants.yaml` with tenants `ta` (alpha) and `tb` (beta) and their groups, if any.
  static func writeTenants(_ fixture: ApplyFixture, groupA: String?, groupB: String?, extra: String = "") throws {
    func group(_ name: String?) -> String { name.map { ", group: \($0)" } ?? "" }
    try fixture.directory.write("desired/tenants.yaml", """
      tenants:
        - { name: ta\(group(groupA)), models: [alpha@1] }
        - { name: tb\(group(groupB)), models: [beta@1] }
      \(extra)
      """)
  }

  @Test func eachTenantReadsItsOwnModelAndIsRefusedTheOthers() throws {
    try #require(getuid() == 0, "the tenant isolation test creates unix users and groups and must run as root (CI does); run 'sudo swift test --filter TenantTests'")
    let accounts = try UnixAccounts()
    let fixture = try ApplyFixture()
    let files = try Self.mirror(fixture)
    try Self.writeTenants(fixture, groupA: accounts.groups[0], groupB: accounts.groups[1])
    let first = try fixture.apply()
    #expect(first.status == 0, "\(first.stdout)\(first.stderr)")
    #expect(first.stdout.contains("Updated tenant views: ta, tb."), "\(first.stdout)")

    let tenants = fixture.root.path + "/tenants"
    try #require(accounts.run(as: 0, ["ls", "-d", fixture.directory.path]).status == 0, "the test directory \(fixture.directory.path) must be reachable by other users; set TMPDIR=/tmp")
    let ownA = try accounts.run(as: 0, ["cat", "\(tenants)/ta/alpha/weights.bin"])
    #expect(ownA.status == 0 && ownA.stdoutData == files.alpha.data, "\(ownA.stderr)")
    let ownB = try accounts.run(as: 1, ["cat", "\(tenants)/tb/beta/shared.json"])
    #expect(ownB.status == 0 && ownB.stdoutData == files.shared.data, "\(ownB.stderr)")
    let sharedA = try accounts.run(as: 0, ["cat", "\(tenants)/ta/alpha/cfg/shared.json"])
    #expect(sharedA.status == 0 && sharedA.stdoutData == files.shared.data, "\(sharedA.stderr)")

    for (user, other) in [(0, "tb/beta"), (1, "ta/alpha")] {
      for command in [["ls", "\(tenants)/\(other.prefix(2))"], ["cat", "\(tenants)/\(other)/weights.bin"], ["ls", fixture.root.path + "/blobs"],
        ["ls", fixture.root.models], ["cat", fixture.view(String(other.dropFirst(3)), "raw", "weights.bin")], ["ls", fixture.root.path]]
      {
        let refused = try accounts.run(as: user, command)
        #expect(refused.status != 0 && refused.stderr.contains("Permission denied"), "\(accounts.users[user]): \(command.joined(separator: " ")) gave \(refused.status): \(refused.stdout)\(refused.stderr)")
      }
    }

    #expect(Stat(tenants + "/ta")?.permissions == 0o750)
    #expect(Self.groupID(of: tenants + "/ta") == TenantViews.groupID(named: accounts.groups[0]))
    #expect(Self.groupID(of: tenants + "/tb/beta") == TenantViews.groupID(named: accounts.groups[1]))
    #expect(Stat(fixture.root.path)?.permissions == 0o711)
    #expect(Stat(fixture.root.path + "/blobs")?.permissions == 0o700)
    #expect(Stat(fixture.root.models)?.permissions == 0o700)
    fixture.expectLinked("\(tenants)/ta/alpha/weights.bin", to: files.alpha)
    fixture.expectLinked("\(tenants)/tb/beta/shared.json", to: files.shared)

    let before = Stat("\(tenants)/ta/alpha/weights.bin")
    let second = try fixture.apply()
    #expect(second.status == 0 && second.stdout == "No changes. Node \(fixture.node) matches the desired state.\n", "\(second.stdout)\(second.stderr)")
    #expect(Stat("\(tenants)/ta/alpha/weights.bin") == before)
    let again = try accounts.run(as: 0, ["cat", "\(tenants)/ta/alpha/weights.bin"])
    #expect(again.status == 0 && again.stdoutData == files.alpha.data)

    let status = try fixture.reconcile("status", ["--tenant", "ta"])
    #expect(status.status == 0, "\(status.stderr)")
    #expect(status.stdout.contains("no tier, group \(accounts.groups[0]), served by this node"), "\(status.stdout)")
    #expect(status.stdout.contains("\(files.alpha.size + files.shared.size) bytes"), "\(status.stdout)")
  }

  @Test func viewsFollowTheDesiredStateAndNeverCauseARehash() throws {
    let fixture = try ApplyFixture()
    let files = try Self.mirror(fixture)
    try Self.writeTenants(fixture, groupA: nil, groupB: nil)
    #expect(try fixture.apply().status == 0)
    let tenants = fixture.root.path + "/tenants"
    #expect(Stat(tenants + "/ta")?.permissions == 0o700, "without a group only root may enter")

    // tb drops its model and ta also uses beta: views follow, nothing is downloaded or hashed.
    try fixture.directory.write("desired/tenants.yaml", """
      tenants:
        - { name: ta, models: [alpha@1, beta@1] }
        - { name: tb, models: [] }
      """)
    let changed = try fixture.apply()
    #expect(changed.status == 0, "\(changed.stdout)\(changed.stderr)")
    // The plan is only the views: a link for ta's new view, an unlink for tb's old one.
    #expect(changed.stdout.contains("~ link      tenant ta: beta@1:raw") && changed.stdout.contains("- unlink    tenants/tb/beta"), "\(changed.stdout)")
    #expect(changed.stdout.contains("Plan: 1 to link, 1 to unlink."), "nothing is downloaded or hashed: \(changed.stdout)")
    #expect(changed.stdout.contains("Updated tenant views: ta, tb."), "\(changed.stdout)")
    fixture.expectLinked("\(tenants)/ta/beta/weights.bin", to: files.beta)
    #expect(((try? FileManager.default.contentsOfDirectory(atPath: tenants + "/tb")) ?? ["?"]).isEmpty)
    let plan = try fixture.reconcile("plan")
    #expect(plan.stdout.contains("No changes."), "links made outside a job must not make blobs look modified: \(plan.stdout)")

    // A tenant no longer declared loses its directory; one removed by hand comes back.
    try fixture.directory.write("desired/tenants.yaml", "tenants:\n  - { name: ta, models: [alpha@1] }\n")
    try FileManager.default.removeItem(atPath: tenants + "/ta/alpha/cfg")
    #expect(try fixture.apply().status == 0)
    #expect(!FileManager.default.fileExists(atPath: tenants + "/tb"))
    #expect(!FileManager.default.fileExists(atPath: tenants + "/ta/beta"))
    fixture.expectLinked("\(tenants)/ta/alpha/cfg/shared.json", to: files.shared)
  }

  @Test func anUnknownGroupIsAPlanErrorAndApplyChangesNothing() throws {
    let fixture = try ApplyFixture()
    _ = try Self.mirror(fixture)
    let missing = "rc-no-such-group-\(UInt32.random(in: 0...UInt32.max))"
    try Self.writeTenants(fixture, groupA: nil, groupB: missing)
    let message = "error: tenant 'tb': group '\(missing)' does not exist on this node; create it or fix the tenant's group\n"
    let refused = try fixture.apply()
    #expect(refused.status == 1 && refused.stderr == message, "\(refused.stdout)\(refused.stderr)")
    #expect(!FileManager.default.fileExists(atPath: fixture.root.path), "nothing may be written before the groups are known")

    try Self.writeTenants(fixture, groupA: nil, groupB: nil)
    #expect(try fixture.apply().status == 0)
    try Self.writeTenants(fixture, groupA: nil, groupB: missing)
    let plan = try fixture.reconcile("plan")
    #expect(plan.status == 1 && plan.stderr == message, "\(plan.stdout)\(plan.stderr)")
    #expect(FileManager.default.fileExists(atPath: fixture.root.path + "/tenants/tb/beta/weights.bin"), "a refused apply leaves the views as they were")
  }

  @Test func aTenantOverItsQuotaFailsThePlanWithExactNumbers() throws {
    let fixture = try ApplyFixture()
    let files = try Self.mirror(fixture)
    let needed = files.beta.size + files.shared.size
    try fixture.directory.write("desired/tenants.yaml", """
      tenants:
        - { name: ta, models: [alpha@1] }
        - { name: tb, tier: small, quota: { disk: 64KiB }, models: [beta@1] }
      """)
    try fixture.writeDesired([
      ModelSpec(name: "alpha", sources: ["file://\(fixture.mirror)/alpha/"], variants: ["raw": ["weights.bin": files.alpha]]),
      ModelSpec(name: "beta", sources: ["file://\(fixture.mirror)/beta/"], variants: ["raw": ["weights.bin": files.beta, "shared.json": files.shared]]),
    ], policy: ApplyFixture.fastPolicy + "\n  tiers: { small: { disk: 1MiB, models: 1 } }")
    let plan = try fixture.reconcile("plan")
    #expect(plan.status == 1)
    #expect(plan.stderr == "\(fixture.desired)/tenants.yaml:3:13: error: tenant 'tb' needs 64.98 KiB (\(needed) bytes) for its models but its disk quota is 64.00 KiB (65536 bytes; tier small, overridden by its quota:); raise the quota or drop models\n", "\(plan.stderr)")
    let apply = try fixture.apply()
    #expect(apply.status == 1 && apply.stderr == plan.stderr)
    #expect(fixture.blobNames().isEmpty, "no byte moves when a quota is exceeded")
  }

  static func groupID(of path: String) -> gid_t? {
    var info = stat()
    return lstat(path, &info) == 0 ? info.st_gid : nil
  }
}

/// Two unix groups and two users, one in each, with names unique to this run; deleted when
/// the object goes away.
final class UnixAccounts {
  let groups: [String]
  let users: [String]

  init() throws {
    let tag = String(UInt32.random(in: 0...UInt32.max), radix: 36)
    groups = ["rcg\(tag)a", "rcg\(tag)b"]
    users = ["rcu\(tag)a", "rcu\(tag)b"]
    for (user, group) in zip(users, groups) {
      try Self.check(["/usr/sbin/groupadd", group])
      try Self.check(["/usr/sbin/useradd", "-M", "-N", "-g", group, "-s", "/bin/sh", user])
    }
  }

  deinit {
    for user in users { _ = try? Self.execute(["/usr/sbin/userdel", user]) }
    for group in groups { _ = try? Self.execute(["/usr/sbin/groupdel", group]) }
  }

  /// `runuser -u USER -- COMMAND…` for user `index`.
  func run(as index: Int, _ command: [String]) throws -> CommandResult {
    try Self.execute(["/usr/sbin/runuser", "-u", users[index], "--"] + command)
  }

  struct CommandResult {
    var stdoutData: Data
    var stderr: String
    var status: Int32
    var stdout: String { String(decoding: stdoutData, as: UTF8.self) }
  }

  static func check(_ command: [String]) throws {
    let result = try execute(command)
    guard result.status == 0 else { throw Binary.Failure(description: "\(command.joined(separator: " ")) failed (\(result.status)): \(result.stderr)") }
  }

  static func execute(_ command: [String]) throws -> CommandResult {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: command[0])
    process.arguments = Array(command.dropFirst())
    process.environment = ["PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL": "C"]
    process.currentDirectoryURL = URL(fileURLWithPath: "/")
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    process.standardInput = FileHandle.nullDevice
    try process.run()
    let collector = ChildProcess.Collector(err)
    let data = out.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return CommandResult(stdoutData: data, stderr: collector.text(timeout: 10), status: process.terminationStatus)
  }
}
