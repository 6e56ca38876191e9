import Foundation

/// One action of a run recorded in the audit log: a download, verify, evict or link, with the
/// bytes it moved and how it ended.
public struct AuditAction: Sendable, Codable, Hashable {
  /// The registry's id for the action.
  public var id: Int64
  /// The run it belongs to.
  public var runID: Int64
  /// What kind of action: `download`, `verify`, `evict`, `link`.
  public var action: String
  /// What it acted on, for example `wan2.2-t2v-a14b@2.2.0:fp8 transformer/model-00001.safetensors`.
  public var subject: String
  /// Bytes moved, hashed or freed.
  public var bytes: Int64
  /// Where the bytes came from, for a download.
  public var source: String?
  /// When the action began.
  public var startedAt: Date
  /// When it ended; nil while it runs.
  public var finishedAt: Date?
  /// How it ended; `running` until then.
  public var outcome: ActionRecordOutcome
  /// More about the outcome, for example the error of a failed action.
  public var detail: String?

  /// Creates an action record.
  public init(
    id: Int64, runID: Int64, action: String, subject: String, bytes: Int64 = 0, source: String? = nil,
    startedAt: Date, finishedAt: Date? = nil, outcome: ActionRecordOutcome = .running, detail: String? = nil
  ) {
    self.id = id
    self.runID = runID
    self.action = action
    self.subject = subject
    self.bytes = bytes
    self.source = source
    self.startedAt = startedAt
    self.finishedAt = finishedAt
    self.outcome = outcome
    self.detail = detail
  }
}
