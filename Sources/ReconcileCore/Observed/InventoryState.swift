/// Where a variant on the status table stands; the raw value is the text `reconcile status`
/// prints in its STATE column and writes in its JSON.
public enum InventoryState: String, Sendable, Hashable, Codable, CaseIterable, CustomStringConvertible {
  /// Desired, every declared file present and verified.
  case ok
  /// Desired, but fewer files in the view than the desired state lists.
  case incomplete
  /// Desired and complete, but some file's content is not verified.
  case unverified
  /// Desired, and no file of it is on the node.
  case missing
  /// Desired, but something it requires is not verified here yet, so it is not published.
  case waiting
  /// On the node, but not desired here.
  case unwanted

  /// The rendered text: `ok`, `incomplete`, `unverified`, `missing`, `waiting` or `unwanted`.
  public var description: String { rawValue }
}
