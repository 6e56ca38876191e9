import Foundation
import ReconcileCore

/// The node-local cache of files known to match their digest, keyed by device and inode.
///
/// It describes one machine's disks, so it always lives in the node's own SQLite file, whatever
/// ledger the node shares with a fleet.
public protocol VerifiedFileCache: Sendable {
  /// Every recorded fingerprint and the digest its file had when verified.
  func verifiedDigests() throws -> [StatFingerprint: Digest]
  /// Records many verified files at once, each replacing the record of the same device and inode.
  func recordVerified(_ entries: [(StatFingerprint, Digest)], at date: Date) throws
  /// Drops every record whose fingerprint is not in `keeping` and returns how many it dropped.
  func pruneVerified(keeping: Set<StatFingerprint>) throws -> Int
}

/// How an audited run ended.
public enum RunOutcome: String, Sendable, Hashable, Codable, CaseIterable {
  /// Every action succeeded.
  case ok
  /// At least one action failed.
  case failed
  /// The process stopped before the run ended (killed, or cancelled).
  case interrupted
}

/// How an audited action ended, or that it still runs.
public enum ActionRecordOutcome: String, Sendable, Hashable, Codable, CaseIterable {
  /// Started, not ended yet.
  case running
  /// Done.
  case ok
  /// Failed; the detail says why.
  case failed
  /// A verification found other content; the blob went to quarantine.
  case mismatch
  /// The run stopped before the action ended.
  case interrupted
}

/// What one node records about itself beyond its disk: when variants were last used and became
/// unwanted, and the audit log of its runs and actions. Every row carries the node's name, so
/// several nodes can share one ledger without touching each other's rows.
public protocol NodeLedger: Sendable {
  /// The node whose rows this ledger reads and writes.
  var node: String { get }

  /// The latest recorded use of every variant of this node that has one.
  func lastUse() throws -> [VariantID: Date]
  /// Records a use of `variant` at `date`; an earlier date than the one recorded changes nothing.
  func recordUse(_ variant: VariantID, at date: Date) throws
  /// When each variant unwanted on this node first became unwanted.
  func unwantedSince() throws -> [VariantID: Date]
  /// Records that `variants` are unwanted as of `date`; a variant already marked keeps the earlier time.
  func markUnwanted(_ variants: [VariantID], at date: Date) throws
  /// Forgets that `variants` were unwanted.
  func clearUnwanted(_ variants: [VariantID]) throws

  /// Records the start of a run of this node and returns its id.
  func beginRun(user: String, host: String, command: String, desiredCommit: String?, at date: Date) throws -> Int64
  /// Marks this node's runs and actions that never finished as interrupted; returns how many runs.
  @discardableResult func closeUnfinishedRuns() throws -> Int
  /// Records how run `id` ended, and why when it failed or stopped (`SIGTERM`).
  func finishRun(id: Int64, outcome: RunOutcome, detail: String?, at date: Date) throws
  /// Records the start of an action of run `runID` and returns its id.
  func beginAction(run runID: Int64, action: Action, subject: String, bytes: Int64, source: String?, at date: Date) throws -> Int64
  /// Records how action `id` ended; `bytes` replaces the count given at the start unless nil.
  func finishAction(id: Int64, outcome: ActionRecordOutcome, bytes: Int64?, detail: String?, at date: Date) throws
  /// This node's latest `limit` runs, newest first.
  func recentRuns(limit: Int) throws -> [AuditRun]
  /// The actions of run `runID`, in the order they began.
  func actions(ofRun runID: Int64) throws -> [AuditAction]
}

/// What a fleet shares: every node's heartbeat and what it holds verified. Each node writes
/// only its own rows; anyone with read access sees them all.
public protocol FleetRegistry: Sendable {
  /// Records `heartbeat`; with `registering`, creates the node's row on its first report,
  /// otherwise updates only a row that exists (a node no pool declares must not join).
  func heartbeat(_ heartbeat: NodeHeartbeat, registering: Bool) throws
  /// Replaces what `node` holds verified with `holdings`, as of `date`.
  func replaceHoldings(node: String, _ holdings: [HeldVariant], at date: Date) throws
  /// Every registered node with its holdings, in name order.
  func nodes() throws -> [FleetNode]
  /// Deregisters `node`: its row, holdings and ledger go; returns whether it was known.
  @discardableResult func removeNode(_ node: String) throws -> Bool
}

extension NodeLedger {
  /// Records how run `id` ended.
  public func finishRun(id: Int64, outcome: RunOutcome, at date: Date) throws {
    try finishRun(id: id, outcome: outcome, detail: nil, at: date)
  }
}

extension FleetRegistry {
  /// Records `heartbeat`, creating the node's row on its first report.
  public func heartbeat(_ heartbeat: NodeHeartbeat) throws { try self.heartbeat(heartbeat, registering: true) }
}
