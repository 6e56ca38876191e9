import ArgumentParser
import Foundation
import ReconcileCore
import ReconcileRuntime

/// `reconcile lock [MODEL…]`: resolve `include:` variants into pinned file lists.
struct LockCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "lock", abstract: "Resolve include: variants into file lists pinned to a revision, in reconcile.lock.yaml.",
    discussion: "Lists each variant's first listable source (a Hub repository at a commit, an S3 prefix, a file:// directory), keeps the files its include: globs match with their size and SHA-256 (hashing those the source gives no SHA-256 for), and writes reconcile.lock.yaml beside the desired-state files. Commit it: plan and apply use only locked variants.")

  @Argument(help: ArgumentHelp("Models to lock, as name or name@version (default: all).", valueName: "model"))
  var models: [String] = []

  @OptionGroup var global: GlobalOptions

  func run() throws {
    let clean = try ErrorReporting.run { () -> Bool in
      let settings = try global.settings()
      let directory = DesiredDirectory(path: settings.desired)
      let loaded = try DesiredStateLoader.load(try directory.files())
      let known = Set(loaded.state.models.flatMap { [$0.name, $0.id.description] })
      for name in models where !known.contains(name) {
        throw ValidationError("no model '\(name)' in \(settings.desired)")
      }
      let locker = Locker(listers: try Session.listers(settings: settings.sources, desired: settings.desired))
      let (entries, outcomes) = locker.lock(loaded, models: models)
      guard !outcomes.isEmpty || !loaded.staleLocks.isEmpty else {
        print("Nothing to lock: no variant in \(settings.desired) lists include: globs.")
        return true
      }
      let target = lockPath(settings.desired)
      let text = Locker.render(entries)
      try text.write(toFile: target, atomically: true, encoding: .utf8)
      for outcome in outcomes {
        if let entry = outcome.entry {
          let bytes = entry.files.reduce(Int64(0)) { $0 + $1.size }
          print("locked \(outcome.variant): \(entry.files.count) file\(entry.files.count == 1 ? "" : "s"), \(ByteFormat.binary(bytes)) from \(entry.source)")
        } else {
          ErrorReporting.report(["error: lock \(outcome.variant): \(outcome.error ?? "failed")"])
        }
      }
      if !loaded.staleLocks.isEmpty {
        print("dropped \(loaded.staleLocks.count) lock entr\(loaded.staleLocks.count == 1 ? "y" : "ies") for variants that no longer use include: (\(loaded.staleLocks.map(\.description).joined(separator: ", ")))")
      }
      print("Wrote \(target). Commit it with the desired state.")
      return outcomes.allSatisfy { $0.entry != nil }
    }
    if !clean { throw ExitCode.failure }
  }

  /// `reconcile.lock.yaml` in the desired-state directory, or beside a single desired file.
  func lockPath(_ desired: String) -> String {
    var isDirectory: ObjCBool = false
    let base = FileManager.default.fileExists(atPath: desired, isDirectory: &isDirectory) && isDirectory.boolValue
      ? desired : PathText.parent(of: desired)
    return (base.isEmpty ? "." : base) + "/" + Locker.fileName
  }
}
