import Testing

@testable import ReconcileCore

/// `policy.bandwidth`, `policy.connect_timeout` and `policy.stall_timeout`: valid values, their
/// defaults, every bad value as a positioned error; and the retry pause with a server's
/// `Retry-After`, capped by `policy.retry.max_backoff`.
@Suite struct TransferPolicyTests {
  /// The policy `lines` (each indented under `policy:`) load to; fails the test on any error.
  static func policy(_ lines: [String], file: String = "d.yaml") throws -> Policy {
    let text: String
    if file.hasSuffix(".toml") {
      text = "[policy]\n" + lines.joined(separator: "\n") + "\n"
    } else {
      text = "policy:\n" + lines.map { "  " + $0 }.joined(separator: "\n") + "\n"
    }
    return try DesiredStateLoader.load([DesiredFile(path: file, text: text)]).state.policy
  }

  @Test func defaultsAreThirtySecondsAndNoNodeLimit() throws {
    let policy = try Self.policy(["concurrency: 2"])
    #expect(policy.bandwidth == nil)
    #expect(policy.connectTimeout == 30)
    #expect(policy.stallTimeout == 30)
  }

  @Test(arguments: [
    ("bandwidth: 500MiB/s", 500 << 20, 30, 30),
    ("bandwidth: 4194304", 4 << 20, 30, 30),
    ("bandwidth: 1.5 GiB", 3 << 29, 30, 30),
    ("connect_timeout: 5s", nil, 5, 30),
    ("stall_timeout: 1m30s", nil, 30, 90),
    ("stall_timeout: 24h", nil, 30, 86400),
  ] as [(String, Int64?, Int64, Int64)])
  func validValuesAreRead(_ line: String, _ bandwidth: Int64?, _ connect: Int64, _ stall: Int64) throws {
    let policy = try Self.policy([line])
    #expect(policy.bandwidth == bandwidth)
    #expect(policy.connectTimeout == connect)
    #expect(policy.stallTimeout == stall)
  }

  @Test func tomlMeansTheSame() throws {
    let yaml = try Self.policy(["bandwidth: 500MiB/s", "connect_timeout: 10s", "stall_timeout: 2m"])
    let toml = try Self.policy(["bandwidth = \"500MiB/s\"", "connect_timeout = \"10s\"", "stall_timeout = 120"], file: "d.toml")
    #expect(yaml == toml)
    #expect(toml.bandwidth == 500 << 20 && toml.connectTimeout == 10 && toml.stallTimeout == 120)
  }

  /// `policy:` is line 1, the value under test on line 2.
  @Test(arguments: [
    ("bandwidth: 0", "d.yaml:2:14: error: 'bandwidth' in policy must be more than 0 bytes per second; leave it out for no limit"),
    ("bandwidth: 0MiB/s", "d.yaml:2:14: error: 'bandwidth' in policy must be more than 0 bytes per second; leave it out for no limit"),
    ("bandwidth: -1MiB/s", "d.yaml:2:14: error: 'bandwidth' in policy: must not be negative, got '-1MiB'"),
    ("bandwidth: 9999999TiB/s", "d.yaml:2:14: error: 'bandwidth' in policy: '9999999TiB' is too large (at most 8 EiB)"),
    ("bandwidth: 99999999999999999999/s", "d.yaml:2:14: error: 'bandwidth' in policy: '99999999999999999999' is too large (at most 8 EiB)"),
    ("bandwidth: 5GB/s", "d.yaml:2:14: error: 'bandwidth' in policy: unknown unit 'GB'; did you mean 'GiB'?"),
    ("bandwidth: fast", "d.yaml:2:14: error: 'bandwidth' in policy: expected a size such as 80GiB, got 'fast'"),
    ("connect_timeout: 0s", "d.yaml:2:20: error: 'connect_timeout' in policy must be between 1s and 24h, got '0s'"),
    ("connect_timeout: 0", "d.yaml:2:20: error: 'connect_timeout' in policy must be between 1s and 24h, got '0'"),
    ("connect_timeout: 99999999999999999999s", "d.yaml:2:20: error: 'connect_timeout' in policy: '99999999999999999999s' is too large"),
    ("stall_timeout: -5s", "d.yaml:2:18: error: 'stall_timeout' in policy: must not be negative, got '-5s'"),
    ("stall_timeout: 2d", "d.yaml:2:18: error: 'stall_timeout' in policy must be between 1s and 24h, got '2d'"),
    ("stall_timeout: 106751991167301d", "d.yaml:2:18: error: 'stall_timeout' in policy: '106751991167301d' is too large"),
    ("stall_timeout: soon", "d.yaml:2:18: error: 'stall_timeout' in policy: expected a duration such as 90s, 5m, 24h or 7d, got 'soon'"),
  ])
  func badValuesArePositionedErrors(_ line: String, _ expected: String) {
    let errors = DesiredValidationTests.yaml("policy:\n  \(line)\n")
    #expect(errors == [expected])
  }

  @Test func everyBadValueIsReportedInOneRun() {
    let errors = DesiredValidationTests.yaml("policy:\n  bandwidth: 0\n  connect_timeout: 0s\n  stall_timeout: 25h\n")
    #expect(errors.count == 3, "\(errors)")
    #expect(errors.map { $0.split(separator: ":").prefix(3).joined(separator: ":") } == ["d.yaml:2:14", "d.yaml:3:20", "d.yaml:4:18"], "\(errors)")
  }

  @Test func aMisspelledKeyIsNamed() {
    let errors = DesiredValidationTests.yaml("policy:\n  stall_timout: 5s\n")
    #expect(errors == ["d.yaml:2:3: error: unknown key 'stall_timout' in policy; did you mean 'stall_timeout'?"])
  }

  // MARK: Retry pauses

  /// backoff, max_backoff, attempt, jitter, Retry-After → the pause.
  @Test(arguments: [
    (2, 300, 1, 1.0, nil, 2.0),  // the first pause: backoff
    (2, 300, 3, 0.5, nil, 4.0),  // doubled twice, half by jitter
    (2, 5, 10, 1.0, nil, 5.0),  // capped
    (0, 5, 1, 1.0, 2.0, 2.0),  // the server asks for longer than the backoff
    (0, 5, 1, 1.0, 3600.0, 5.0),  // ... but no longer than max_backoff
    (4, 300, 2, 1.0, 1.0, 8.0),  // a shorter Retry-After does not shorten the backoff
    (0, 0, 1, 1.0, 30.0, 0.0),  // no pauses at all: none for a server either
    (2, 300, 1, 1.0, .infinity, 300.0),
    (2, 300, 1, 1.0, -5.0, 2.0),
    (2, 300, 1, 1.0, .nan, 2.0),
    (Int64.max, Int64.max, 100, 1.0, nil, Double(Int64.max)),  // no overflow at the extremes
  ] as [(Int64, Int64, Int, Double, Double?, Double)])
  func retryPause(_ backoff: Int64, _ maxBackoff: Int64, _ attempt: Int, _ jitter: Double, _ retryAfter: Double?, _ expected: Double) {
    let retry = RetryPolicy(attempts: 5, backoff: backoff, maxBackoff: maxBackoff)
    #expect(retry.pause(after: attempt, jitter: jitter, retryAfter: retryAfter) == expected)
  }
}
