/// Why the registry could not be opened or a registry call was refused.
public enum SQLiteRegistryError: Error, Sendable, Hashable, CustomStringConvertible {
  /// The file's schema is newer than this build knows: a newer reconcile wrote it.
  case schemaTooNew(path: String, found: Int, supported: Int)
  /// No audit run of this node has this id.
  case unknownRun(id: Int64, node: String)
  /// No audit action of a run of this node has this id.
  case unknownAction(id: Int64, node: String)

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
    }
  }
}
