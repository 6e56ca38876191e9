import Testing

@testable import ReconcileCore

/// `include:` globs and lock files.
@Suite struct GlobTests {
  @Test(arguments: [
    ("*.json", "config.json", true),
    ("*.json", "tokenizer/vocab.json", false),
    ("**/*.json", "tokenizer/vocab.json", true),
    ("**/*.json", "config.json", true),
    ("transformer/*.safetensors", "transformer/model-00001.safetensors", true),
    ("transformer/*.safetensors", "vae/model.safetensors", false),
    ("model-0000[1-3].safetensors", "model-00002.safetensors", true),
    ("model-0000[1-3].safetensors", "model-00004.safetensors", false),
    ("model-0000[!1].bin", "model-00001.bin", false),
    ("model-?.bin", "model-a.bin", true),
    ("**", "a/b/c", true),
    ("a/**/z", "a/z", true),
    ("a/**/z", "a/b/c/z", true),
    ("a/**/z", "a/b/c/y", false),
  ])
  func matches(pattern: String, path: String, expected: Bool) {
    #expect(Glob(pattern).matches(path) == expected)
  }
}

@Suite struct LockTests {
  static let digest = String(repeating: "ab", count: 32)

  static let model = """
    models:
      - name: m
        version: "1"
        sources: [hf://org/m@main]
        variants:
          fp16:
            include: ["*.safetensors", "*.json"]
    """

  static func lock(include: String) -> String {
    """
    locks:
      - model: m@1
        variant: fp16
        source: hf://org/m@0123456789abcdef0123456789abcdef01234567
        include: \(include)
        files:
          - { path: model.safetensors, size: 10, sha256: \(digest) }
          - { path: config.json, size: 2, sha256: \(digest.replacingOccurrences(of: "ab", with: "cd")), git_sha1: 0123456789abcdef0123456789abcdef01234567 }
    """
  }

  @Test func lockedVariantGetsTheLockedFilesAndSource() throws {
    let loaded = try DesiredStateLoader.load([
      DesiredFile(path: "models.yaml", text: Self.model),
      DesiredFile(path: "reconcile.lock.yaml", text: Self.lock(include: "[\"*.safetensors\", \"*.json\"]")),
    ])
    let variant = try #require(loaded.state.models.first?.variant("fp16"))
    #expect(variant.files.map(\.path) == ["config.json", "model.safetensors"])
    #expect(variant.files.first?.gitSHA1 == "0123456789abcdef0123456789abcdef01234567")
    #expect(!variant.needsLock)
    let plan = try Planner.plan(loaded.state, ObservedState(), on: "n", at: .init(timeIntervalSince1970: 0))
    #expect(plan.changes.first?.sources.first?.url == "hf://org/m@0123456789abcdef0123456789abcdef01234567")
  }

  @Test func unlockedVariantIsRefusedByPlan() throws {
    let loaded = try DesiredStateLoader.load([DesiredFile(path: "models.yaml", text: Self.model)])
    #expect(loaded.state.models.first?.variant("fp16")?.needsLock == true)
    #expect(throws: PlanError.self) { try Planner.plan(loaded.state, ObservedState(), on: "n", at: .init(timeIntervalSince1970: 0)) }
    do {
      _ = try Planner.plan(loaded.state, ObservedState(), on: "n", at: .init(timeIntervalSince1970: 0))
    } catch {
      #expect(error.description == "m@1:fp16 lists include: globs but is not locked; run 'reconcile lock m@1' and commit the lock file it writes")
    }
  }

  @Test func lockForOtherGlobsIsStale() throws {
    let loaded = try DesiredStateLoader.load([
      DesiredFile(path: "models.yaml", text: Self.model),
      DesiredFile(path: "reconcile.lock.yaml", text: Self.lock(include: "[\"*.bin\"]")),
    ])
    #expect(loaded.state.models.first?.variant("fp16")?.files.isEmpty == true)
    do {
      _ = try Planner.plan(loaded.state, ObservedState(), on: "n", at: .init(timeIntervalSince1970: 0))
      Issue.record("a stale lock was planned")
    } catch {
      #expect(error.description.contains("m@1:fp16 (include: changed since it was locked)"))
    }
  }

  @Test func lockOfAVariantThatIsGoneIsReportedStale() throws {
    let other = Self.model.replacingOccurrences(of: "fp16:", with: "fp8:")
    let loaded = try DesiredStateLoader.load([
      DesiredFile(path: "models.yaml", text: other),
      DesiredFile(path: "reconcile.lock.yaml", text: Self.lock(include: "[\"*.json\"]")),
    ])
    #expect(loaded.staleLocks == [VariantID(name: "m", version: "1", variant: "fp16")])
  }

  @Test func filesAndIncludeTogetherIsAnError() throws {
    let text = Self.model.replacingOccurrences(of: "include: [\"*.safetensors\", \"*.json\"]", with: "include: [\"*.json\"]\n        files: []")
    do {
      _ = try DesiredStateLoader.load([DesiredFile(path: "models.yaml", text: text)])
      Issue.record("accepted")
    } catch {
      #expect(error.diagnostics.map(\.description).contains { $0.contains("lists both files and include") })
    }
  }
}
