import Testing

@testable import ReconcileCore

/// `policy.fleet.node_ttl`: a duration above zero; anything else is a positioned error.
@Suite struct FleetPolicyTests {
  @Test(arguments: [
    ("2m", nil as String?),
    ("0s", "d.yaml:12:22: error: 'node_ttl' in policy.fleet must be longer than 0 s"),
    ("soon", "d.yaml:12:22: error: 'node_ttl' in policy.fleet: expected a duration such as 90s, 5m, 24h or 7d, got 'soon'"),
  ])
  func nodeTTLIsADurationAboveZero(_ value: String, _ expected: String?) {
    let document = DesiredValidationTests.fileDocument() + "\npolicy:\n  fleet: { node_ttl: \(value) }\n"
    let errors = DesiredValidationTests.yaml(document)
    #expect(errors == (expected.map { [$0] } ?? []), "\(errors)")
  }

  @Test func anUnknownFleetKeyIsNamed() {
    let errors = DesiredValidationTests.yaml(DesiredValidationTests.fileDocument() + "\npolicy:\n  fleet: { node_tll: 5m }\n")
    #expect(errors.count == 1 && errors.first?.contains("unknown key 'node_tll' in policy.fleet; did you mean 'node_ttl'?") == true, "\(errors)")
  }
}
