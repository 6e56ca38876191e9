import Foundation
import ReconcileCore

/// `reconcile lock`: resolves every `include:` variant into a file list pinned to a revision
/// and writes them to `reconcile.lock.yaml` in the desired-state directory.
public struct Locker: Sendable {
  /// The lock file's name; it is a desired-state file with a single `locks:` key.
  public static let fileName = "reconcile.lock.yaml"

  /// Listers by scheme.
  public var listers: [SourceURL.Scheme: any SourceLister]

  /// Creates a locker.
  public init(listers: [SourceURL.Scheme: any SourceLister]) { self.listers = listers }

  /// One variant's outcome.
  public struct Outcome: Sendable {
    /// The variant.
    public var variant: VariantID
    /// The new lock entry, or nil when it failed.
    public var entry: LockEntry?
    /// Why it failed.
    public var error: String?
  }

  /// Locks the `include:` variants of the models named (all when `models` is empty), keeping
  /// the other entries of `existing` that still belong to a variant.
  public func lock(_ loaded: LoadedDesiredState, models: [String]) -> (entries: [LockEntry], outcomes: [Outcome]) {
    var outcomes: [Outcome] = []
    var kept = loaded.locks.filter { !loaded.staleLocks.contains($0.variant) }
    for model in loaded.state.models where models.isEmpty || models.contains(model.name) || models.contains(model.id.description) {
      for variant in model.variants {
        guard let include = variant.include else { continue }
        let id = VariantID(model: model.id, variant: variant.name)
        do {
          let listing = try list(model.sources, include: include)
          guard !listing.files.isEmpty else {
            throw ListingError("no file of \(listing.pinned) matches include: \(include.joined(separator: ", "))")
          }
          let entry = LockEntry(variant: id, source: listing.pinned, include: include, files: listing.files)
          kept.removeAll { $0.variant == id }
          kept.append(entry)
          outcomes.append(Outcome(variant: id, entry: entry))
        } catch {
          outcomes.append(Outcome(variant: id, error: "\(error)"))
        }
      }
    }
    return (kept.sorted { $0.variant < $1.variant }, outcomes)
  }

  /// The first source that can be listed; the next one when listing fails.
  func list(_ sources: [SourceURL], include: [String]) throws -> LockedListing {
    let globs = include.map(Glob.init)
    var causes: [String] = []
    for source in sources {
      guard let lister = listers[source.scheme] else {
        causes.append("\(source): \(source.scheme.rawValue):// sources cannot be listed; list its files by hand")
        continue
      }
      do {
        return try lister.list(source, include: globs)
      } catch {
        causes.append("\(error)")
      }
    }
    throw ListingError(causes.joined(separator: "; "))
  }

  /// The lock file's text for `entries`.
  public static func render(_ entries: [LockEntry]) -> String {
    var out = "# Written by `reconcile lock`: the files each include: variant resolved to, pinned to a\n# revision. Commit it with the desired state; do not edit it by hand.\n"
    guard !entries.isEmpty else { return out + "locks: []\n" }
    out += "locks:\n"
    for entry in entries {
      out += "  - model: \(quoted(entry.variant.model.description))\n"
      out += "    variant: \(quoted(entry.variant.variant))\n"
      out += "    source: \(quoted(entry.source.url))\n"
      out += "    include: [\(entry.include.map(quoted).joined(separator: ", "))]\n"
      out += "    files:\n"
      for file in entry.files {
        var line = "      - { path: \(quoted(file.path)), size: \(file.size), sha256: \(file.sha256.hex)"
        if let git = file.gitSHA1 { line += ", git_sha1: \(git)" }
        out += line + " }\n"
      }
    }
    return out
  }

  static func quoted(_ text: String) -> String { QuotedString.doubleQuoted(text) }
}
