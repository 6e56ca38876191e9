import Foundation
import Testing
import TestSupport

@testable import ReconcileCore
@testable import ReconcileRuntime

/// A large YAML file's models are decoded on a second thread while the reader goes on
/// (`ModelPipeline`). Whatever the file holds, the result is the one decoding the whole tree
/// afterwards gives: the same state, the same source map, the same errors in the same order.
@Suite struct ModelPipelineTests {
  /// The state or the errors of loading `files`, through the pipeline or not.
  static func load(_ files: [(String, String)], pipelined: Bool) -> Result<LoadedDesiredState, DiagnosticsError> {
    Result { () throws(DiagnosticsError) in
      try DesiredStateLoader.load(files.map { DesiredFile(path: $0.0, text: $0.1) }, pipelineFrom: pipelined ? 0 : .max)
    }
  }

  /// Loads `files` both ways and checks that the two agree; returns the errors (empty when valid).
  static func agree(_ files: [(String, String)], _ what: String = "", sourceLocation: Testing.SourceLocation = #_sourceLocation) -> [String] {
    switch (load(files, pipelined: true), load(files, pipelined: false)) {
    case (.success(let piped), .success(let whole)):
      #expect(piped.state == whole.state, "\(what)", sourceLocation: sourceLocation)
      #expect(piped.sourceMap == whole.sourceMap, "\(what)", sourceLocation: sourceLocation)
      #expect(piped.staleLocks == whole.staleLocks && piped.locks == whole.locks, "\(what)", sourceLocation: sourceLocation)
      return []
    case (.failure(let piped), .failure(let whole)):
      let errors = whole.diagnostics.map(\.description)
      #expect(piped.diagnostics.map(\.description) == errors, "\(what)", sourceLocation: sourceLocation)
      return errors
    case (let piped, let whole):
      Issue.record("\(what): one way succeeded and the other failed: \(piped) / \(whole)", sourceLocation: sourceLocation)
      return []
    }
  }

  /// `count` models, every third with an anchor its successor's sources repeat, in enough
  /// variety to pass more than one batch (256 items) to the pipeline.
  static func models(_ count: Int, named prefix: String = "m") -> String {
    var text = "models:\n"
    for index in 0..<count {
      let anchor = index % 3 == 0 ? "&s\(index) " : ""
      let sources = index % 3 == 1 ? "*s\(index - 1)" : "\(anchor)[hf://org/m\(index)@main, https://mirror.example/m\(index)/]"
      text += """
          - name: \(prefix)\(index)
            version: "1.\(index % 7)"
            sources: \(sources)
            default_variant: fp16
            variants:
              fp16:
                files:
                  - { path: config.json, size: 1532, sha256: \(String(repeating: "c", count: 64)) }
                  - { path: dir/model.safetensors, size: \(1000 + index)KiB, sha256: \(hex(index)) }
              fp8:
                vram: 24GiB
                files:
                  - { path: model.safetensors, size: 0x\(String(500 + index, radix: 16)), sha256: \(hex(index + 1_000_000)) }

        """
    }
    return text
  }

  /// A well-formed digest made from `seed`.
  static func hex(_ seed: Int) -> String {
    let digits = String(seed, radix: 16)
    return String(repeating: "0", count: 64 - digits.count) + digits
  }

  static let tenantsAndPools = """
    tenants:
      - name: team-a
        models: [m0@1.0:fp16, m1@1.1, m693@1.0]
    pools:
      - name: big
        serves: [team-a]
        nodes: [{ name: n1, disk: 10TiB }]

    """

  @Test func aValidFileGivesTheSameStateAndSourceMap() {
    let errors = Self.agree([("models.yaml", Self.models(700) + Self.tenantsAndPools), ("more.yaml", Self.models(3, named: "x"))])
    #expect(errors == [])
  }

  @Test func errorsInModelsAreTheSameErrorsInTheSameOrder() {
    var text = Self.models(600)
    // A repeated model, an unknown key, a bad size, a bad digest, a path listed twice, a
    // missing version and a model that is not a mapping, spread over several batches.
    text += "  - name: m5\n    version: \"1.5\"\n    sources: [hf://org/x]\n    variants: { v: { files: [{ path: a, size: 1, sha256: \(Self.hex(1)) }] } }\n"
    text += "  - name: y1\n    version: \"1\"\n    colour: red\n    sources: [hf://org/y]\n    variants: { v: { files: [{ path: a, size: 12XB, sha256: nothex }, { path: a, size: 1, sha256: \(Self.hex(2)) }] } }\n"
    text += "  - name: y2\n    sources: [hf://org/y]\n    variants: { v: { files: [] } }\n"
    text += "  - just a string\n"
    let errors = Self.agree([("models.yaml", text + Self.tenantsAndPools)])
    #expect(errors.count >= 8, "\(errors)")
    #expect(errors.contains { $0.contains("duplicate model 'm5@1.5'") }, "\(errors)")
    #expect(errors.contains { $0.contains("unknown key 'colour'") }, "\(errors)")
    #expect(errors.contains { $0.contains("model must be a mapping") }, "\(errors)")
  }

  @Test func aSyntaxErrorAfterTheModelsIsTheFilesOnlyError() {
    let text = Self.models(400) + "  - name: bad\n    colour: red\n" + "tenants: [unclosed\n"
    let errors = Self.agree([("models.yaml", text)])
    #expect(errors.count == 1, "\(errors)")
    #expect(errors.first?.hasPrefix("models.yaml:") == true, "\(errors)")
  }

  @Test func modelsThatAreNotAListAreReportedAsBefore() {
    #expect(Self.agree([("models.yaml", "models: {a: 1}\n")]).contains { $0.contains("'models' in the top level must be a list") })
    #expect(Self.agree([("models.yaml", "models:\n")]) == [])
  }

  @Test func aliasesOfAnchorsInHandedOffModelsServeTheRestOfTheFile() {
    let text = Self.models(300) + """
      tenants:
        - name: team-a
          models: [m0@1.0]
      pools:
        - name: big
          serves: [team-a]
          nodes: [{ name: n1, disk: 10TiB }]
      locks: *s0

      """
    // The lock list repeats a list of URLs: the same wrong-shape errors either way.
    let errors = Self.agree([("models.yaml", text)])
    #expect(!errors.isEmpty)
  }
}

/// The fuzz suite's damaged desired states, loaded through the pipeline and without it: the
/// same state or the same errors, whatever the damage (anchors, nesting, duplicates, bad UTF-8
/// in names, files cut short).
extension ModelPipelineTests {
  @Test func damagedDesiredStatesLoadTheSameThroughThePipeline() throws {
    let corpus = try FuzzCorpus.repository(root: Repository.root)
    for number in 0..<400 {
      let fuzzCase = corpus.makeCase(seed: DesiredStateFuzzTests.defaultSeed, number: number)
      let files = fuzzCase.files.filter { DesiredDirectory.reads($0.name) }.compactMap { file -> (String, String)? in
        guard let text = String(validating: file.bytes, as: UTF8.self) else { return nil }
        return ("fuzz-case/" + file.name, text)
      }
      _ = Self.agree(files, fuzzCase.title)
    }
  }
}
