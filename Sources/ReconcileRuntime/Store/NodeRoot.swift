import Foundation
import ReconcileCore

/// The paths of a node root's layout.
public struct NodeRoot: Sendable, Hashable {
  /// The root directory, for example `/var/lib/reconcile`.
  public var path: String

  /// Creates a root at `path`.
  /// A relative path is taken from the working directory and kept absolute, so every path
  /// under the root has a parent to walk up to (and Foundation's `deletingLastPathComponent`,
  /// which traps on a one-character relative path such as `r`, never sees one).
  public init(_ path: String) {
    if path.hasPrefix("/") || path.isEmpty {
      self.path = path
    } else {
      let cwd = FileManager.default.currentDirectoryPath
      self.path = (cwd.hasSuffix("/") ? cwd : cwd + "/") + (path.hasPrefix("./") ? String(path.dropFirst(2)) : path)
    }
  }

  /// `<root>/blobs/sha256`.
  public var blobs: String { path + "/blobs/sha256" }
  /// `<root>/models`.
  public var models: String { path + "/models" }
  /// `<root>/tenants`: each served tenant's view of the variants it uses.
  public var tenants: String { path + "/tenants" }
  /// `<root>/.reconcile`.
  public var state: String { path + "/.reconcile" }
  /// `<root>/.reconcile/tmp`.
  public var temporary: String { state + "/tmp" }
  /// `<root>/.reconcile/lock`: the file `RootMutex` flocks, so that one apply or gc at a time
  /// changes the root (the name predates `RootMutex`; see there why it stays).
  public var mutex: String { state + "/lock" }
  /// `<root>/.reconcile/registry.sqlite`.
  public var registry: String { state + "/registry.sqlite" }

  /// Where the blob for `digest` lives: `blobs/sha256/ab/abcdef…`.
  public func blob(_ digest: Digest) -> String { "\(blobs)/\(digest.hex.prefix(2))/\(digest.hex)" }

  /// The view directory of a variant.
  public func view(_ variant: VariantID) -> String { "\(path)/\(variant.viewPath)" }
}
