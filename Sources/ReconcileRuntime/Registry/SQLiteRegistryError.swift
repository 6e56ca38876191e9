/// Why the registry could not be opened or a registry call was refused.
public enum SQLiteRegistryError: Error, Sendable, Hashable, CustomStringConvertible {
  /// The file's schema is newer than this build knows: a newer reconcile wrote it.
  case schemaTooNew(path: String, found: Int, supported: Int)
  /// No audit run of this node has this id.
  case unknownRun(id: Int64, node: String)
  /// No audit action of a run of this node has this id.
  case unknownAction(id: Int64, node: String)
  /// A row of the audit log has an outcome this build does not know, or none where one is needed.
  case unknownOutcome(path: String, table: String, id: Int64, found: String?, known: [String])

  /// What went wrong and what to do about it, for the operator.
  public var description: String {
    switch self {
    case .schemaTooNew(let path, let found, let supported):
      "registry \(path) has schema version \(found), but this reconcile knows versions up to \(supported): "
        + "a newer reconcile wrote it — upgrade reconcile on this node"
    case .unknownRun(let id, let node):
      "audit run \(id) of node '\(node)' does not exist in the registry"
    case .unknownAction(let id, let node):
      "audit action \(id) of a run of node '\(node)' does not exist in the registry"
    case .unknownOutcome(let path, let table, let id, let found, let known):
      "registry \(path): \(table) row \(id) has "
        + (found.map { "outcome '\($0)', which this reconcile does not know" } ?? "no outcome")
        + " (it knows \(known.joined(separator: ", "))): a hand edit or a newer reconcile wrote it — "
        + "set the outcome to one of those, or delete the row"
    }
  }
}
