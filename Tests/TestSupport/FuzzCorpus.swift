import Foundation

/// Makes fuzz cases from valid desired-state trees: case `n` of seed `s` is always the same
/// bytes, and the mutations take turns so every kind gets its share of any run.
public struct FuzzCorpus: Sendable {
  /// The valid trees cases start from.
  public var trees: [FuzzSeedTree]

  /// A corpus over `trees`, which must not be empty.
  public init(trees: [FuzzSeedTree]) { self.trees = trees }

  /// The seed a run uses: `RECONCILE_FUZZ_SEED` (decimal or 0x-hex) when set, else `fallback`.
  public static func seed(from environment: [String: String], default fallback: UInt64) -> UInt64 {
    guard let text = environment["RECONCILE_FUZZ_SEED"]?.trimmingCharacters(in: .whitespaces), !text.isEmpty else { return fallback }
    if text.hasPrefix("0x") { return UInt64(text.dropFirst(2), radix: 16) ?? fallback }
    return UInt64(text) ?? fallback
  }

  /// The case numbers a run covers: `RECONCILE_FUZZ_CASE=N` replays one case, else
  /// `RECONCILE_FUZZ_CASES` (or `count`) cases from 0.
  public static func caseNumbers(from environment: [String: String], count: Int) -> [Int] {
    if let one = environment["RECONCILE_FUZZ_CASE"].flatMap({ Int($0) }) { return [one] }
    let total = environment["RECONCILE_FUZZ_CASES"].flatMap { Int($0) } ?? count
    return Array(0..<max(0, total))
  }

  /// Case `number` of the run seeded with `seed`.
  public func makeCase(seed: UInt64, number: Int) -> FuzzCase {
    var random = FuzzRandom(seed: seed, case: number)
    let kinds = FuzzMutation.allCases
    let mutation = kinds[((number % kinds.count) + kinds.count) % kinds.count]
    // An alias bomb needs YAML; pick among the trees that have some.
    let candidates = mutation == .aliasBomb ? trees.filter { $0.files.contains { !$0.name.hasSuffix(".toml") } } : trees
    let tree = random.pick(candidates.isEmpty ? trees : candidates)
    var targetIndices = Array(tree.files.indices)
    if mutation == .aliasBomb { targetIndices = targetIndices.filter { !tree.files[$0].name.hasSuffix(".toml") } }
    let targetIndex = random.pick(targetIndices)
    var files = tree.files.map { FuzzFile(name: $0.name, bytes: Array($0.text.utf8)) }
    var target = files[targetIndex]
    var details = [FuzzMutator.apply(mutation, to: &target, random: &random)]
    // One case in four stacks a second mutation on the same file.
    if random.oneIn(4) {
      let second = random.pick(kinds.filter { $0 != .fileNameTrick && $0 != .aliasBomb })
      details.append(second.rawValue + ": " + FuzzMutator.apply(second, to: &target, random: &random))
    }
    // A tenth of the cases also copy the damaged file under a second name: duplicates across files.
    if random.oneIn(10), !target.name.hasPrefix(".") {
      let copy = FuzzFile(name: "copy-" + target.name, bytes: target.bytes)
      if copy.name.utf8.count <= 255, !files.contains(where: { $0.name == copy.name }) {
        files.append(copy)
        details.append("copied as \(copy.name)")
      }
    }
    files[targetIndex] = target
    // Names must stay distinct after a rename; a clash keeps the original name.
    if files.enumerated().contains(where: { $0.offset != targetIndex && $0.element.name == target.name }) {
      files[targetIndex].name = tree.files[targetIndex].name
      target.name = files[targetIndex].name
    }
    let argument: FuzzDesiredArgument = mutation == .fileNameTrick || random.oneIn(8) ? random.pick(FuzzDesiredArgument.allCases) : .plain
    return FuzzCase(
      seed: seed, number: number, mutation: mutation, tree: tree.label, node: tree.node, target: target.name,
      detail: details.joined(separator: "; "), files: files, desiredArgument: argument)
  }
}

extension FuzzCorpus {
  /// The repository's own valid trees: `Examples/quickstart`, `Examples/fleet`,
  /// `Examples/fleet-toml` and `Desired/`, each planned for a node of its pools (or `demo`).
  public static func repository(root: URL) throws -> FuzzCorpus {
    let labels = ["Examples/quickstart", "Examples/fleet", "Examples/fleet-toml", "Desired"]
    let trees = try labels.map { label in
      let directory = root.appendingPathComponent(label)
      let names = try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
        .filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") || $0.hasSuffix(".toml") }
      let files = try names.map { ($0, try String(contentsOf: directory.appendingPathComponent($0), encoding: .utf8)) }
      let node = files.contains { $0.1.contains("gpu-a-01") } ? "gpu-a-01" : "demo"
      return FuzzSeedTree(label: label, files: files.map { (name: $0.0, text: $0.1) }, node: node)
    }
    return FuzzCorpus(trees: trees)
  }
}
