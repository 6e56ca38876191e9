import Foundation

/// One line of `reconcile status`: a model variant that is on the node or should be.
public struct InventoryRow: Sendable, Hashable, Codable {
  /// The variant.
  public var variant: VariantID
  /// Whether the node should hold it.
  public var desired: Bool
  /// Files present in the view.
  public var files: Int
  /// Files the desired state lists for it (nil when it is no longer declared).
  public var declaredFiles: Int?
  /// Bytes of the view's files.
  public var bytes: Int64
  /// View files whose content is verified against the declared digest.
  public var verifiedFiles: Int
  /// The latest recorded use.
  public var lastUsed: Date?
  /// Where the variant stands: ok, incomplete, unverified, missing, waiting or unwanted.
  public var state: InventoryState
  /// For `waiting`: the required variants not verified here yet.
  public var waitingFor: [VariantID]?

  /// Creates a row.
  public init(variant: VariantID, desired: Bool, files: Int, declaredFiles: Int?, bytes: Int64, verifiedFiles: Int, lastUsed: Date?, state: InventoryState) {
    self.variant = variant
    self.desired = desired
    self.files = files
    self.declaredFiles = declaredFiles
    self.bytes = bytes
    self.verifiedFiles = verifiedFiles
    self.lastUsed = lastUsed
    self.state = state
  }
}

/// The node's inventory: what it holds and what it should hold.
public enum Inventory {
  /// Rows for every variant in `observed` or in `target`, in variant order.
  public static func rows(_ desired: DesiredState, _ observed: ObservedState, target: NodeTarget) -> [InventoryRow] {
    let ids = Set(observed.variants.keys).union(target.variants).sorted()
    let rows = ids.map { id in
      let view = observed.variants[id]
      let declared = desired.model(id.model)?.variant(id.variant)?.files
      let digests = Dictionary(declared?.map { ($0.path, $0.sha256) } ?? [], uniquingKeysWith: { first, _ in first })
      let files = view?.files ?? [:]
      let verified = files.filter { path, file in
        // A file the desired state no longer lists counts when its content was verified at all.
        guard let expected = digests[path] ?? (declared == nil ? file.verifiedDigest : nil) else { return false }
        if file.verifiedDigest == expected { return true }
        if let blob = observed.blobs[expected], blob.verification == .verified, file.isLink(to: blob) { return true }
        return false
      }.count
      let wanted = target.variants.contains(id)
      let state: InventoryState
      if !wanted {
        state = .unwanted
      } else if files.isEmpty {
        state = .missing
      } else if files.count < (declared?.count ?? 0) {
        state = .incomplete
      } else if verified < files.count {
        state = .unverified
      } else {
        state = .ok
      }
      return InventoryRow(
        variant: id, desired: wanted, files: files.count, declaredFiles: declared?.count,
        bytes: files.values.reduce(0) { $0 + $1.fingerprint.size }, verifiedFiles: verified,
        lastUsed: observed.lastUse[id], state: state)
    }
    // A desired variant whose own bytes are all here (in its view, or verified in the store and
    // held back from its view) but whose requirements are not all verified waits for them; one
    // that misses bytes of its own keeps saying so.
    let states = Dictionary(uniqueKeysWithValues: rows.map { ($0.variant, $0.state) })
    let requirements = Dictionary(
      NodeTarget.requirements(of: Array(target.variants), in: desired).map { ($0.variant, $0.requires) }, uniquingKeysWith: { first, _ in first })
    return rows.map { row in
      guard row.desired, let required = requirements[row.variant] else { return row }
      let pending = required.filter { states[$0] != .ok }
      guard !pending.isEmpty else { return row }
      let declared = desired.model(row.variant.model)?.variant(row.variant.variant)?.files ?? []
      let stored = !declared.isEmpty && declared.allSatisfy { observed.blobs[$0.sha256]?.verification == .verified }
      guard row.state == .ok || stored else { return row }
      var row = row
      row.state = .waiting
      row.waitingFor = pending
      return row
    }
  }
}
