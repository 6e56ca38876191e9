import Testing

@testable import ReconcileCore

/// Values: digests, sizes, durations, headroom, file paths, sources and names.
extension DesiredValidationTests {
  static let inFile = "in file of variant 'v' of model 'm@1'"
  static let inVariant = "in variant 'v' of model 'm@1'"

  // MARK: Digests

  @Test(arguments: [
    (String(repeating: "a", count: 63), "d.yaml:10:21: error: sha256 must be 64 hex digits, got 63"),
    (String(repeating: "a", count: 65), "d.yaml:10:21: error: sha256 must be 64 hex digits, got 65"),
    (String(repeating: "A", count: 64), "d.yaml:10:21: error: sha256 must be lowercase hex"),
    ("g" + String(repeating: "a", count: 63), "d.yaml:10:21: error: sha256 must be 64 lowercase hex digits (0-9, a-f)"),
    ("sha256:" + String(repeating: "a", count: 57), "d.yaml:10:21: error: sha256 must be 64 lowercase hex digits (0-9, a-f)"),
    ("\"\"", "d.yaml:10:21: error: sha256 must be 64 hex digits, got 0"),
  ])
  func malformedDigestsAreReported(digest: String, expected: String) {
    #expect(Self.yaml(Self.fileDocument(sha256: digest)) == [expected])
  }

  // MARK: Sizes

  @Test(arguments: [
    ("-1", "must not be negative, got '-1'"),
    ("-1GiB", "must not be negative, got '-1GiB'"),
    ("9223372036854775808", "'9223372036854775808' is too large (at most 8 EiB)"),
    ("99999999999999999999", "'99999999999999999999' is too large (at most 8 EiB)"),
    ("8388608TiB", "'8388608TiB' is too large (at most 8 EiB)"),
    ("9000000.5TiB", "'9000000.5TiB' is too large (at most 8 EiB)"),
    ("10GB", "unknown unit 'GB'; did you mean 'GiB'?"),
    ("10gib", "unknown unit 'gib'; did you mean 'GiB'?"),
    ("10 PiB", "unknown unit 'PiB'; use B, KiB, MiB, GiB or TiB"),
    ("12x", "unknown unit 'x'; use B, KiB, MiB, GiB or TiB"),
    ("GiB", "expected a size such as 80GiB, got 'GiB'"),
    ("1.5", "expected a whole number of bytes or a size such as 1.5GiB, got '1.5'"),
    ("1.2.3GiB", "expected a size such as 80GiB, got '1.2.3GiB'"),
  ])
  func badSizesAreReportedAtTheValue(size: String, problem: String) {
    #expect(Self.yaml(Self.fileDocument(size: size)) == ["d.yaml:9:19: error: 'size' \(Self.inFile): \(problem)"])
  }

  @Test(arguments: [
    ("1", 1 as Int64), ("1_000", 1000), ("1B", 1), ("2KiB", 2048), ("1 MiB", 1 << 20), ("1.5GiB", 1_610_612_736),
    // 1 EiB is the most a desired state's files may add up to; 8 EiB reads exactly, and is then
    // too large in total (DesiredValidationTests+Overflow shows the value read).
    ("3TiB", 3 << 40), ("1152921504606846976", 1 << 60),
  ])
  func sizesAreReadInBytes(size: String, bytes: Int64) throws {
    let loaded = try DesiredStateLoader.load([DesiredFile(path: "d.yaml", text: Self.fileDocument(size: size))])
    #expect(loaded.state.models.first?.variants.first?.files.first?.size == bytes)
  }

  // MARK: Durations and headroom

  @Test(arguments: [
    ("  gc_grace: 1w\n", "d.yaml:2:13: error: 'gc_grace' in policy: expected a duration such as 90s, 5m, 24h or 7d, got '1w'"),
    ("  gc_grace: 1h30\n", "d.yaml:2:13: error: 'gc_grace' in policy: expected a duration such as 90s, 5m, 24h or 7d, got '1h30'"),
    ("  gc_grace: h\n", "d.yaml:2:13: error: 'gc_grace' in policy: expected a duration such as 90s, 5m, 24h or 7d, got 'h'"),
    ("  gc_grace: 1.5h\n", "d.yaml:2:13: error: 'gc_grace' in policy: expected a duration such as 90s, 5m, 24h or 7d, got '1.5h'"),
    ("  gc_grace: 1.5\n", "d.yaml:2:13: error: 'gc_grace' in policy must be a duration such as 24h, got a number"),
    ("  gc_grace: -1h\n", "d.yaml:2:13: error: 'gc_grace' in policy: must not be negative, got '-1h'"),
    ("  gc_grace: 99999999999999999999d\n", "d.yaml:2:13: error: 'gc_grace' in policy: '99999999999999999999d' is too large"),
    ("  gc_grace: 200000000000000d\n", "d.yaml:2:13: error: 'gc_grace' in policy: '200000000000000d' is too large"),
    ("  retry: { backoff: -2s }\n", "d.yaml:2:21: error: 'backoff' in policy.retry: must not be negative, got '-2s'"),
    ("  retry: { max_backoff: 99999999999999999999 }\n", "d.yaml:2:25: error: 'max_backoff' in policy.retry: '99999999999999999999' is too large"),
    ("  min_free: 100%\n", "d.yaml:2:13: error: 'min_free' in policy must be a share of at least 0% and below 100%, got '100%'"),
    ("  min_free: 150%\n", "d.yaml:2:13: error: 'min_free' in policy must be a share of at least 0% and below 100%, got '150%'"),
    ("  min_free: -5%\n", "d.yaml:2:13: error: 'min_free' in policy must be a share of at least 0% and below 100%, got '-5%'"),
    ("  min_free: ten%\n", "d.yaml:2:13: error: 'min_free' in policy must be a share of at least 0% and below 100%, got 'ten%'"),
    ("  min_free: 50GB\n", "d.yaml:2:13: error: 'min_free' in policy: unknown unit 'GB'; did you mean 'GiB'?"),
    ("  tiers:\n    pro: { bandwidth: 1Gbit/s }\n", "d.yaml:3:23: error: 'bandwidth' in tier 'pro': unknown unit 'Gbit'; did you mean 'GiB'?"),
  ])
  func badDurationsAndHeadroomAreReported(policy: String, expected: String) {
    #expect(Self.yaml("policy:\n" + policy) == [expected])
  }

  @Test(arguments: [
    ("gc_grace: 90", 90 as Int64), ("gc_grace: 90s", 90), ("gc_grace: 5m", 300), ("gc_grace: 24h", 86_400),
    ("gc_grace: 7d", 604_800), ("gc_grace: 1h30m", 5_400), ("gc_grace: 0s", 0),
  ])
  func durationsAreReadInSeconds(line: String, seconds: Int64) throws {
    let loaded = try DesiredStateLoader.load([DesiredFile(path: "d.yaml", text: "policy:\n  \(line)\n")])
    #expect(loaded.state.policy.gcGrace == seconds)
  }

  @Test(arguments: [
    ("10%", Headroom.share(percent: 10)), ("0%", .share(percent: 0)), ("99.5%", .share(percent: 99.5)),
    ("50GiB", .bytes(50 << 30)), ("0", .bytes(0)),
  ])
  func headroomIsAShareOrASize(value: String, headroom: Headroom) throws {
    let loaded = try DesiredStateLoader.load([DesiredFile(path: "d.yaml", text: "policy:\n  min_free: \(value)\n")])
    #expect(loaded.state.policy.minFree == headroom)
  }

  // MARK: Paths

  @Test(arguments: [
    ("/etc/passwd", "path '/etc/passwd' \(inVariant) must be relative, not absolute"),
    ("a/../../b", "path 'a/../../b' \(inVariant) must not contain '..'"),
    ("..", "path '..' \(inVariant) must not contain '..'"),
    ("a//b", "path 'a//b' \(inVariant) must not contain an empty segment ('//' or a trailing '/')"),
    ("a/b/", "path 'a/b/' \(inVariant) must not contain an empty segment ('//' or a trailing '/')"),
    ("\"a\\0b\"", "path 'a\\0b' \(inVariant) must not contain NUL"),
    ("'a\\b'", "path 'a\\b' \(inVariant) must use '/' and not contain '\\'"),
    ("./a", "path './a' \(inVariant) must not contain '.' segments"),
    ("a/./b", "path 'a/./b' \(inVariant) must not contain '.' segments"),
    ("\"\"", "path '' \(inVariant) must not be empty"),
  ])
  func unsafePathsAreReported(path: String, problem: String) {
    #expect(Self.yaml(Self.fileDocument(path: path)) == ["d.yaml:8:19: error: \(problem)"])
  }

  static let twoFiles = """
    models:
      - name: m
        version: "1"
        sources: [hf://org/m]
        variants:
          v:
            files:
              - { path: FIRST, size: 1, sha256: \(hex("a")) }
              - { path: SECOND, size: 1, sha256: \(hex("b")) }
    """

  @Test(arguments: [
    ("a.bin", "a.bin", ["d.yaml:9:21: error: path 'a.bin' appears twice \(inVariant)\nd.yaml:8:21: note: first listed here"]),
    ("x", "x/y.bin", ["d.yaml:9:21: error: path 'x/y.bin' \(inVariant) is inside 'x', which is listed as a file"]),
    ("x/y/z.bin", "x/y", ["d.yaml:8:21: error: path 'x/y/z.bin' \(inVariant) is inside 'x/y', which is listed as a file"]),
    ("x/y", "x/yz", []),
    ("x/y", "x/z", []),
  ])
  func twoFilesOfAVariantMustNotClash(first: String, second: String, expected: [String]) {
    let document = Self.twoFiles.replacing("FIRST", with: first).replacing("SECOND", with: second)
    #expect(Self.yaml(document) == expected)
  }

  @Test func oneDigestWithTwoSizesIsReportedAtTheSecondFile() {
    let document = Self.twoFiles.replacing("FIRST", with: "a.bin").replacing("SECOND", with: "b.bin")
      .replacing("size: 1, sha256: \(Self.hex("b"))", with: "size: 2, sha256: \(Self.hex("a"))")
    #expect(Self.yaml(document) == [
      "d.yaml:9:45: error: sha256 aaaaaaaaaaaa… of m@1:v b.bin has size 2, but m@1:v a.bin lists the same digest with size 1\n"
        + "d.yaml:8:45: note: m@1:v a.bin is listed here"
    ])
  }

  @Test func oneDigestWithOneSizeMayBeListedTwice() throws {
    let document = Self.twoFiles.replacing("FIRST", with: "a.bin").replacing("SECOND", with: "b.bin").replacing(Self.hex("b"), with: Self.hex("a"))
    let loaded = try DesiredStateLoader.load([DesiredFile(path: "d.yaml", text: document)])
    #expect(loaded.state.models.first?.variants.first?.uniqueBytes == 1)
  }

  @Test func theSamePathInTwoVariantsIsFine() throws {
    let document = Self.fileDocument().replacing("    variants:\n", with: "    variants:\n      w: { files: [{ path: a.bin, size: 1, sha256: \(Self.hex("a")) }] }\n")
    let loaded = try DesiredStateLoader.load([DesiredFile(path: "d.yaml", text: document)])
    #expect(loaded.state.models.first?.variants.map(\.name) == ["v", "w"])
  }

  // MARK: Sources

  @Test(arguments: [
    ("[ftp://mirror/m]", ["d.yaml:4:15: error: unsupported source 'ftp://mirror/m'; use one of hf://, s3://, https://, http://, file://"]),
    ("[HF://org/m]", ["d.yaml:4:15: error: unsupported source 'HF://org/m'; use one of hf://, s3://, https://, http://, file://"]),
    ("[org/m]", ["d.yaml:4:15: error: unsupported source 'org/m'; use one of hf://, s3://, https://, http://, file://"]),
    ("[hf://]", ["d.yaml:4:15: error: source 'hf://' has no location after 'hf://'"]),
    ("[https:///]", ["d.yaml:4:15: error: source 'https:///' has no location after 'https://'"]),
    ("[hf://org/m, 42]", ["d.yaml:4:27: error: sources of model 'm@1' must be URLs, got an integer"]),
    ("[]", ["d.yaml:4:14: error: model 'm@1' needs at least one source"]),
    ("", ["d.yaml:4:5: error: 'sources' in model 'm@1' must not be empty"]),
  ])
  func unsupportedOrMissingSourcesAreReported(sources: String, expected: [String]) {
    let document = Self.fileDocument().replacing("sources: [hf://org/m]", with: "sources: \(sources)")
    #expect(Self.yaml(document) == expected)
  }

  @Test func everySupportedSchemeIsAccepted() throws {
    let sources = "[hf://org/m@abc, s3://bucket/m/, https://mirror/m/, http://10.0.0.1/m/, file:///mnt/m/]"
    let document = Self.fileDocument().replacing("[hf://org/m]", with: sources)
    let loaded = try DesiredStateLoader.load([DesiredFile(path: "d.yaml", text: document)])
    #expect(loaded.state.models.first?.sources.map(\.scheme) == [.hf, .s3, .https, .http, .file])
  }

  @Test func aModelNeedsAVariant() {
    let document = "models:\n  - name: m\n    version: \"1\"\n    sources: [hf://org/m]\n    variants: {}\n"
    #expect(Self.yaml(document) == ["d.yaml:5:15: error: model 'm@1' needs at least one variant"])
  }

  // MARK: Names

  @Test(arguments: [
    ("models:\n  - name: Wan2.2\n    version: \"1\"\n    sources: [hf://o/m]\n    variants: { v: { files: [{ path: f, size: 1, sha256: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa }] } }\n",
     "d.yaml:2:11: error: name 'Wan2.2' must use only a-z, 0-9, '.', '_' and '-'"),
    ("models:\n  - name: \"a b\"\n    version: \"1\"\n    sources: [hf://o/m]\n    variants: { v: { files: [{ path: f, size: 1, sha256: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa }] } }\n",
     "d.yaml:2:11: error: name 'a b' must use only a-z, 0-9, '.', '_' and '-'"),
    ("models:\n  - name: ..\n    version: \"1\"\n    sources: [hf://o/m]\n    variants: { v: { files: [{ path: f, size: 1, sha256: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa }] } }\n",
     "d.yaml:2:11: error: name '..' must use only a-z, 0-9, '.', '_' and '-'"),
    ("models:\n  - name: m\n    version: 1/2\n    sources: [hf://o/m]\n    variants: { v: { files: [{ path: f, size: 1, sha256: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa }] } }\n",
     "d.yaml:3:14: error: version '1/2' of model 'm' must be non-empty without '/', '@' or ':'"),
    ("models:\n  - name: m\n    version: \"1:2\"\n    sources: [hf://o/m]\n    variants: { v: { files: [{ path: f, size: 1, sha256: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa }] } }\n",
     "d.yaml:3:14: error: version '1:2' of model 'm' must be non-empty without '/', '@' or ':'"),
    ("models:\n  - name: m\n    version: \"1\"\n    sources: [hf://o/m]\n    variants: { FP16: { files: [{ path: f, size: 1, sha256: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa }] } }\n",
     "d.yaml:5:17: error: variant name 'FP16' must use only a-z, 0-9, '.', '_' and '-'"),
    ("tenants:\n  - name: Research\n", "d.yaml:2:11: error: name 'Research' must use only a-z, 0-9, '.', '_' and '-'"),
    ("pools:\n  - name: pool/1\n    nodes: []\n", "d.yaml:2:11: error: name 'pool/1' must use only a-z, 0-9, '.', '_' and '-'"),
    ("pools:\n  - name: p\n    nodes: [{ name: gpu_A, disk: 1 }]\n", "d.yaml:3:21: error: name 'gpu_A' must use only a-z, 0-9, '.', '_' and '-'"),
    ("policy:\n  tiers:\n    Pro: {}\n", "d.yaml:3:5: error: tier name 'Pro' must use only a-z, 0-9, '.', '_' and '-'"),
  ])
  func namesWithInvalidCharactersAreReported(document: String, expected: String) {
    #expect(Self.yaml(document) == [expected])
  }
}

/// A variant must list at least one file.
@Suite struct EmptyVariantTests {
  @Test func variantWithoutFilesIsAnError() throws {
    let text = """
      models:
        - name: m
          version: "1"
          sources: [https://x/]
          variants:
            fp16:
              files: []
      """
    do {
      _ = try DesiredStateLoader.load([DesiredFile(path: "d.yaml", text: text)])
      Issue.record("an empty variant was accepted")
    } catch {
      #expect(error.diagnostics.map(\.description) == ["d.yaml:7:16: error: variant 'fp16' of model 'm@1' lists no files"])
    }
  }
}
