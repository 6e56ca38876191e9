import Foundation
import ReconcileCore

/// What apply reports while it runs; the CLI turns these into progress bars or log lines.
public enum ApplyEvent: Sendable {
  /// Work is about to start: how many actions and how many bytes to transfer or hash.
  case started(actions: Int, bytes: Int64)
  /// An action began.
  case actionStarted(ApplyAction)
  /// Bytes written or hashed so far for an action.
  case progress(ApplyAction, done: Int64, total: Int64)
  /// A transfer failed and will be tried again after a pause.
  case retrying(ApplyAction, source: String, attempt: Int, after: Double, cause: String)
  /// An action ended.
  case actionFinished(ApplyAction, ActionOutcome)
  /// The run ended.
  case finished(ApplySummary)
}

/// One unit of apply's work, as events name it.
public struct ApplyAction: Sendable, Hashable, CustomStringConvertible {
  /// What is done.
  public var action: Action
  /// To what.
  public var subject: ChangeSubject
  /// Bytes to transfer, hash or free.
  public var bytes: Int64

  /// Creates an action record.
  public init(action: Action, subject: ChangeSubject, bytes: Int64) {
    self.action = action
    self.subject = subject
    self.bytes = bytes
  }

  /// `download m@1:fp16 file a.bin`.
  public var description: String { "\(action.rawValue) \(subject)" }
}

/// How an action ended.
public enum ActionOutcome: Sendable, Hashable {
  /// Done; the source used (for downloads) and the bytes moved.
  case succeeded(source: String?, bytes: Int64)
  /// Failed, with the full cause.
  case failed(String)

  /// Whether the action succeeded.
  public var isSuccess: Bool { if case .succeeded = self { true } else { false } }
}

/// What a run did.
public struct ApplySummary: Sendable, Hashable {
  /// Actions that succeeded, by action.
  public var succeeded: [Action: Int] = [:]
  /// Bytes downloaded.
  public var downloadedBytes: Int64 = 0
  /// Bytes hashed to verify files already on disk.
  public var verifiedBytes: Int64 = 0
  /// Bytes freed by evictions.
  public var freedBytes: Int64 = 0
  /// Each failed action and its cause.
  public var failures: [(action: ApplyAction, cause: String)] = []
  /// Blobs that failed verification and were moved to quarantine.
  public var quarantined: [String] = []
  /// Evictions left for a later apply because a download failed: the old variants keep serving.
  public var deferred: [ApplyAction] = []
  /// Seconds the run took.
  public var seconds: Double = 0
  /// Tenants whose views under `tenants/` changed.
  public var tenantViews: [String] = []

  /// Creates an empty summary.
  public init() {}

  /// Whether every action succeeded.
  public var isSuccess: Bool { failures.isEmpty }

  public static func == (lhs: ApplySummary, rhs: ApplySummary) -> Bool {
    lhs.succeeded == rhs.succeeded && lhs.downloadedBytes == rhs.downloadedBytes && lhs.failures.map(\.action) == rhs.failures.map(\.action)
  }

  public func hash(into hasher: inout Hasher) {
    hasher.combine(succeeded)
    hasher.combine(downloadedBytes)
  }
}
