import Foundation
import Testing

@testable import ReconcileCore
@testable import ReconcileRuntime

/// Holdings reach the fleet as each variant verifies: the tracker reports a variant once every
/// change of its views succeeded, and never one whose change failed.
@Suite struct HoldingTrackerTests {
  @Test func aVariantIsReportedWhenItsLastChangeSucceedsAndNotAfterAFailure() throws {
    let m = VariantID(name: "m", version: "1", variant: "fp16")
    let n = VariantID(name: "n", version: "1", variant: "fp8")
    func digest(_ n: Int) -> Digest { Digest(hex: String(repeating: "0", count: 63) + String(n))! }
    let desired = DesiredState(models: [
      Model(name: "m", version: "1", sources: [], variants: [Variant(name: "fp16", files: [FileSpec(path: "a", size: 10, sha256: digest(1)), FileSpec(path: "b", size: 5, sha256: digest(2))])]),
      Model(name: "n", version: "1", sources: [], variants: [Variant(name: "fp8", files: [FileSpec(path: "c", size: 7, sha256: digest(3))])]),
    ])
    let plan = try Planner.plan(desired, ObservedState(), on: "solo", at: Date())
    let reported = Locked<[HeldVariant]>([])
    let tracker = HoldingTracker(plan: plan, desired: desired) { held in reported.update { $0.append(held) } }
    func finished(_ variant: VariantID, _ path: String, _ outcome: ActionOutcome) {
      tracker.handle(.actionFinished(ApplyAction(action: .download, subject: ChangeSubject(variant: variant, path: path), bytes: 0), outcome))
    }
    finished(m, "a", .succeeded(source: nil, bytes: 10))
    #expect(reported.value.isEmpty, "m still has a file to go")
    finished(n, "c", .failed("boom"))
    finished(m, "b", .succeeded(source: nil, bytes: 5))
    #expect(reported.value == [HeldVariant(variant: m, bytes: 15)])
    finished(m, "b", .succeeded(source: nil, bytes: 5))
    #expect(reported.value.count == 1, "reported once")
  }
}
