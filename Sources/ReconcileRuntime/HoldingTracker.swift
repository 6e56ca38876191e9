import Foundation
import ReconcileCore

/// Watches an apply's events and reports each variant to the fleet the moment its last change
/// succeeded, so a replacement shows up in the registry while a long apply goes on.
final class HoldingTracker: @unchecked Sendable {
  private let lock = NSLock()
  private var pending: [VariantID: Int]
  private let bytes: [VariantID: Int64]
  private let record: @Sendable (HeldVariant) -> Void

  /// Tracks the variants of `plan`'s target that have view changes; `record` is called once per
  /// variant whose changes all succeeded, from the thread that finished the last one.
  init(plan: Plan, desired: DesiredState, record: @escaping @Sendable (HeldVariant) -> Void) {
    var pending: [VariantID: Int] = [:]
    let target = Set(plan.target.variants)
    for change in plan.changes where [.download, .verify, .link].contains(change.action) && change.subject.tenant == nil && change.subject.path != nil {
      if target.contains(change.subject.variant) { pending[change.subject.variant, default: 0] += 1 }
    }
    self.pending = pending
    var bytes: [VariantID: Int64] = [:]
    for id in pending.keys { bytes[id] = desired.model(id.model)?.variant(id.variant)?.uniqueBytes ?? 0 }
    self.bytes = bytes
    self.record = record
  }

  /// Counts a finished action; a failure leaves its variant unreported.
  func handle(_ event: ApplyEvent) {
    guard case .actionFinished(let action, .succeeded) = event, action.subject.tenant == nil, action.subject.path != nil else { return }
    let complete: Bool = lock.withLock {
      guard let left = pending[action.subject.variant] else { return false }
      pending[action.subject.variant] = left - 1
      return left == 1
    }
    if complete { record(HeldVariant(variant: action.subject.variant, bytes: bytes[action.subject.variant] ?? 0)) }
  }
}
