import ArgumentParser
import Foundation
import ReconcileCore
import ReconcileRuntime

/// `reconcile gc [--dry-run]`: remove orphan blobs, stale partial downloads, quarantined files
/// and the trash, and say how many bytes that freed.
struct GcCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "gc", abstract: "Remove orphan blobs, stale partial downloads, quarantined files and the trash.",
    discussion: """
      An orphan blob is one that no file under models/ or tenants/ is a hard link to. Partial downloads \
      (.reconcile/tmp/) go once not written for --part-age. gc takes the root's lock, as apply does; \
      --dry-run takes no lock and deletes nothing.
      """)

  @OptionGroup var global: GlobalOptions

  @Flag(help: "List what would be removed and the bytes it would free; delete nothing.")
  var dryRun = false

  @Option(help: ArgumentHelp("Partial downloads not written for this long are removed (s, m, h, d).", valueName: "duration"))
  var partAge = DurationArgument(text: "24h", seconds: 24 * 3600)

  @Option(help: ArgumentHelp("Seconds to wait for an apply on this root to finish.", valueName: "seconds"))
  var lockTimeout: Double = 60

  func run() throws {
    let clean = try ErrorReporting.run { () -> Bool in
      let session = try global.session()
      let root = session.root
      guard FileStatus.of(root.path)?.kind == .directory else {
        print("Nothing to collect: \(root.path) holds no store.")
        return true
      }
      let collector = GarbageCollector(root: root, partAge: TimeInterval(partAge.seconds))
      guard !dryRun else {
        let report = collector.find()
        print(Self.render(report.items, root: root, dryRun: true), terminator: "")
        print(Self.total(report.items, freed: report.freedBytes, verb: "Would free"))
        return true
      }
      try BlobStore(root: root).prepare()
      let mutex = try RootMutex(root: root, timeout: lockTimeout, command: Invocation.command)
      defer { mutex.release() }
      let report = collector.find()
      // gc is in the history like apply: a run with what it freed.
      let registry = try SQLiteRegistry(path: root.registry)
      let ledger = try registry.ledger(node: session.node)
      let run = try ledger.beginRun(user: Invocation.user, host: ProcessInfo.processInfo.hostName, command: Invocation.command, desiredCommit: nil, at: Date())
      let result = collector.collect(report, registry: registry)
      let freed = "freed \(ByteFormat.binary(result.freedBytes)) (\(result.removed.count) item\(result.removed.count == 1 ? "" : "s"))"
      try? ledger.finishRun(
        id: run, outcome: result.failures.isEmpty ? .ok : .failed,
        detail: result.failures.isEmpty ? freed : "\(result.failures.count) items could not be removed; \(freed)", at: Date())
      print(Self.render(result.removed, root: root, dryRun: false), terminator: "")
      for failure in result.failures {
        ErrorReporting.report(["error: gc could not remove \(Self.relative(failure.item.paths[0], root: root)): \(failure.cause)"])
      }
      print(Self.total(result.removed, freed: result.freedBytes, verb: "Freed"))
      return result.failures.isEmpty
    }
    if !clean { throw ExitCode.failure }
  }

  /// The header and one line per item: kind, path under the root, size, age.
  static func render(_ items: [GarbageItem], root: NodeRoot, dryRun: Bool) -> String {
    var out = "reconcile gc — root \(root.path)\(dryRun ? " (dry run: nothing is deleted)" : "")\n\n"
    guard !items.isEmpty else { return out }
    let now = Date()
    let rows = items.map { item -> [String] in
      let label: String
      switch item.kind {
      case .orphanBlob: label = "orphan blob"
      case .partial: label = "stale partial"
      case .temporary: label = "stale temporary"
      case .quarantined: label = "quarantined"
      case .trash: label = "trash"
      }
      let extra = item.paths.count > 1 ? " (+ .meta)" : ""
      return [label, relative(item.paths[0], root: root) + extra, ByteFormat.binary(item.bytes), "modified \(Durations.ago(item.modified, now: now)) ago"]
    }
    let widths = (0..<3).map { column in rows.map { $0[column].count }.max() ?? 0 }
    for row in rows {
      out += "  \(row[0].padding(toLength: widths[0], withPad: " ", startingAt: 0))  \(row[1].padding(toLength: widths[1], withPad: " ", startingAt: 0))  "
      out += String(repeating: " ", count: widths[2] - row[2].count) + row[2] + "  " + row[3] + "\n"
    }
    return out + "\n"
  }

  /// `Freed 123 bytes (1.2 KiB): 1 orphan blob, 2 stale partials.` or the dry run's `Would free …`.
  static func total(_ items: [GarbageItem], freed: Int64, verb: String) -> String {
    guard !items.isEmpty else { return "\(verb) 0 bytes: nothing to collect." }
    let names: [GarbageItem.Kind: (String, String)] = [
      .orphanBlob: ("orphan blob", "orphan blobs"), .partial: ("stale partial download", "stale partial downloads"),
      .temporary: ("stale temporary file", "stale temporary files"), .quarantined: ("quarantined file", "quarantined files"),
      .trash: ("trash entry", "trash entries"),
    ]
    let counts = GarbageItem.Kind.allCases.compactMap { kind -> String? in
      let count = items.filter { $0.kind == kind }.count
      guard count > 0, let name = names[kind] else { return nil }
      return "\(count) \(count == 1 ? name.0 : name.1)"
    }
    return "\(verb) \(freed) bytes (\(ByteFormat.binary(freed, precision: 2))): \(counts.joined(separator: ", "))."
  }

  /// `path` relative to the root.
  static func relative(_ path: String, root: NodeRoot) -> String {
    path.hasPrefix(root.path + "/") ? String(path.dropFirst(root.path.count + 1)) : path
  }
}
