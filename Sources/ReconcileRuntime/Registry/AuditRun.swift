import Foundation

/// One invocation of reconcile recorded in the audit log: who ran what, where, against which
/// desired state, and how it ended.
public struct AuditRun: Sendable, Codable, Hashable {
  /// The registry's id for the run.
  public var id: Int64
  /// When the run began.
  public var startedAt: Date
  /// When the run ended; nil while it runs, or when it died without saying.
  public var finishedAt: Date?
  /// The unix user that ran it.
  public var user: String
  /// The host it ran on.
  public var host: String
  /// The node name it acted as (`--node`), which may differ from the host name.
  public var node: String
  /// The command line, for example `apply --auto-approve`.
  public var command: String
  /// The git commit of the desired state, when it was in a repository.
  public var desiredCommit: String?
  /// How it ended; nil while it runs, or when it died and no later run closed it yet.
  public var outcome: RunOutcome?
  /// Why it failed or stopped: `SIGTERM`, or the first error.
  public var detail: String?

  /// Creates a run record.
  public init(
    id: Int64, startedAt: Date, finishedAt: Date? = nil, user: String, host: String, node: String,
    command: String, desiredCommit: String? = nil, outcome: RunOutcome? = nil, detail: String? = nil
  ) {
    self.id = id
    self.startedAt = startedAt
    self.finishedAt = finishedAt
    self.user = user
    self.host = host
    self.node = node
    self.command = command
    self.desiredCommit = desiredCommit
    self.outcome = outcome
    self.detail = detail
  }
}
