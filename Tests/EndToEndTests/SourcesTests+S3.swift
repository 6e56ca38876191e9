import Foundation
import Testing
import TestSupport

@testable import ReconcileCore
@testable import ReconcileRuntime

/// `s3://` sources on the built binary against moto with signatures checked (`S3Fixture`).
extension SourcesTests {
  @Test func applyFromAnS3Prefix() throws {
    let s3 = try S3Fixture.signed.get()
    let fixture = try HubFixture()
    let files = ["config.json", "model.safetensors"].map(s3.file)
    try fixture.writeDesired(sources: [s3.source], files: files.map(\.spec))

    let result = try fixture.apply(extra: s3.environment(s3.reader))
    #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
    #expect(result.stdout.contains("from \(s3.source)"), "\(result.stdout)")
    for file in files { fixture.expectInstalled(file) }
    #expect(fixture.viewFiles() == Set(files.map(\.path)))
    #expect(fixture.leftovers().isEmpty, "\(fixture.leftovers())")
  }

  @Test func aWrongSecretNamesTheVariableAndIsNeverShown() throws {
    let s3 = try S3Fixture.signed.get()
    let fixture = try HubFixture()
    let files = ["config.json", "model.safetensors"].map(s3.file)
    try fixture.writeDesired(sources: [s3.source], files: files.map(\.spec))
    var wrong = s3.reader
    wrong.secretAccessKey = "wrongE2ESecret/k9Qz7LmNoPqRsTuVwXyZ0123456789ab"

    let result = try fixture.apply(extra: s3.environment(wrong))
    #expect(result.status == 1, "\(result.stdout)\(result.stderr)")
    let causes = result.stderr.split(separator: "\n").filter { $0.contains("model.safetensors") && $0.contains("s3://") }
    #expect(!causes.isEmpty && causes.allSatisfy { $0.contains("AWS_SECRET_ACCESS_KEY") }, "\(result.stderr)")
    #expect(fixture.viewFiles().isEmpty && fixture.blobNames().isEmpty)

    let history = try fixture.reconcile("history", ["--json"], extra: s3.environment(wrong))
    #expect(history.status == 0, "\(history.stderr)")
    let state = fixture.stateFiles()
    for secret in [wrong.secretAccessKey, s3.reader.secretAccessKey] {
      for text in [result.stdout, result.stderr, history.stdout, history.stderr] { #expect(!text.contains(secret), "a secret is shown") }
      for (name, data) in state { #expect(data.range(of: Data(secret.utf8)) == nil, ".reconcile/\(name) holds a secret") }
    }
  }
}
