import Foundation
import ReconcileCore

/// What apply reports while it runs; the CLI turns these into progress bars or log lines, and
/// `--log-format json` writes each as one object (see `encode(to:)`).
public enum ApplyEvent: Sendable, Encodable {
  /// Work is about to start: how many actions and how many bytes to transfer or hash.
  case started(actions: Int, bytes: Int64)
  /// An action began.
  case actionStarted(ApplyAction)
  /// Bytes written or hashed so far for an action.
  case progress(ApplyAction, done: Int64, total: Int64)
  /// A transfer failed and will be tried again after a pause.
  case retrying(ApplyAction, source: String, attempt: Int, after: Double, cause: String)
  /// One attempt at a source failed; `cause` is its kind for metrics (`http_5xx`, `timeout`, …).
  case sourceFailed(ApplyAction, source: String, cause: String)
  /// An action ended.
  case actionFinished(ApplyAction, ActionOutcome)
  /// The run ended.
  case finished(ApplySummary)
  /// Something the operator should know that does not stop the run (the fleet registry is
  /// unreachable, say).
  case warning(String)
}

extension ApplyEvent {
  private enum CodingKeys: String, CodingKey {
    case event, action, variant, path, tenant, bytesPlanned = "bytes_planned", actions, bytes, done, total, source, attempt
    case afterSeconds = "after_s", cause, seconds, downloaded, verified, freed, failures, cancelled
  }

  /// The event's name in a JSON log line.
  public var name: String {
    switch self {
    case .started: "started"
    case .actionStarted: "start"
    case .progress: "progress"
    case .retrying: "retry"
    case .sourceFailed: "source_failed"
    case .actionFinished(_, let outcome): outcome.isSuccess ? "done" : "failed"
    case .finished: "finished"
    case .warning: "warning"
    }
  }

  /// One flat object: `event`, the action's fields, then the event's own.
  public func encode(to encoder: any Encoder) throws {
    var container = encoder.container(keyedBy: CodingKeys.self)
    try container.encode(name, forKey: .event)
    func encodeAction(_ action: ApplyAction) throws {
      try container.encode(action.action, forKey: .action)
      try container.encode(action.subject.variant.description, forKey: .variant)
      try container.encodeIfPresent(action.subject.path, forKey: .path)
      try container.encodeIfPresent(action.subject.tenant, forKey: .tenant)
      try container.encode(action.bytes, forKey: .bytesPlanned)
    }
    switch self {
    case .started(let actions, let bytes):
      try container.encode(actions, forKey: .actions)
      try container.encode(bytes, forKey: .bytes)
    case .actionStarted(let action):
      try encodeAction(action)
    case .progress(let action, let done, let total):
      try encodeAction(action)
      try container.encode(done, forKey: .done)
      try container.encode(total, forKey: .total)
    case .retrying(let action, let source, let attempt, let after, let cause):
      try encodeAction(action)
      try container.encode(source, forKey: .source)
      try container.encode(attempt, forKey: .attempt)
      try container.encode((after * 10).rounded() / 10, forKey: .afterSeconds)
      try container.encode(cause, forKey: .cause)
    case .sourceFailed(let action, let source, let cause):
      try encodeAction(action)
      try container.encode(source, forKey: .source)
      try container.encode(cause, forKey: .cause)
    case .actionFinished(let action, let outcome):
      try encodeAction(action)
      switch outcome {
      case .succeeded(let source, let bytes):
        try container.encode(bytes, forKey: .bytes)
        try container.encodeIfPresent(source, forKey: .source)
      case .failed(let cause):
        try container.encode(cause, forKey: .cause)
      }
    case .finished(let summary):
      try container.encode(summary.downloadedBytes, forKey: .downloaded)
      try container.encode(summary.verifiedBytes, forKey: .verified)
      try container.encode(summary.freedBytes, forKey: .freed)
      try container.encode(summary.failures.map(\.cause), forKey: .failures)
      try container.encode((summary.seconds * 100).rounded() / 100, forKey: .seconds)
      try container.encodeIfPresent(summary.cancelled, forKey: .cancelled)
    case .warning(let message):
      try container.encode(message, forKey: .cause)
    }
  }
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
  /// Hub snapshots published into the Hugging Face cache, as `ORG/REPO@commit`.
  public var published: [String] = []
  /// Why the run stopped early (`SIGTERM`, `cancelled`), when it was cancelled.
  public var cancelled: String?
  /// Variants not published because something they require failed in this run, with what.
  public var waiting: [(variant: VariantID, requires: [VariantID])] = []

  /// Creates an empty summary.
  public init() {}

  /// Whether every action succeeded and the run was not cancelled.
  public var isSuccess: Bool { failures.isEmpty && cancelled == nil }

  public static func == (lhs: ApplySummary, rhs: ApplySummary) -> Bool {
    lhs.succeeded == rhs.succeeded && lhs.downloadedBytes == rhs.downloadedBytes && lhs.failures.map(\.action) == rhs.failures.map(\.action)
  }

  public func hash(into hasher: inout Hasher) {
    hasher.combine(succeeded)
    hasher.combine(downloadedBytes)
  }
}
