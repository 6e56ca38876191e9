import Testing

@testable import ReconcileCore

/// Hostile YAML is one clear error, in bounded time and memory: an alias bomb ("billion
/// laughs": ten levels of nine aliases, 9^10 values) stops at the value budget, and nesting
/// deeper than any desired state stops at the depth bound.
@Suite struct YAMLBoundsTests {
  @Test(arguments: ["policy", "files"])
  func anAliasBombIsOneErrorNotAnExhaustedMachine(_ place: String) {
    var anchors = ["  a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    for level in 1..<10 { anchors.append("  a\(level): &a\(level) [" + Array(repeating: "*a\(level - 1)", count: 9).joined(separator: ", ") + "]") }
    let document = place == "policy"
      ? "policy:\n  tiers:\n    bomb:\n" + anchors.map { "    " + $0 }.joined(separator: "\n") + "\n"
      : "models:\n  - name: m\n    version: \"1\"\n    sources: [hf://org/m]\n    variants:\n      v:\n        files:\n" + anchors.map { "        " + $0 }.joined(separator: "\n") + "\n"
    let errors = DesiredValidationTests.yaml(document)
    #expect(errors.count == 1, "\(errors)")
    #expect(errors.first?.hasPrefix("d.yaml:") == true && errors.first?.contains("error: the desired state expands to more than 2000000 values") == true, "\(errors)")
  }

  @Test func nestingDeeperThanTheBoundIsOneError() {
    let depth = YAMLReader.maximumDepth + 10
    let document = "models: " + String(repeating: "[", count: depth) + String(repeating: "]", count: depth) + "\n"
    let errors = DesiredValidationTests.yaml(document)
    #expect(errors.count == 1 && errors.first?.hasPrefix("d.yaml:1:") == true, "\(errors)")
    #expect(errors.first?.contains("error: values are nested more than 128 levels deep; desired-state files need a handful") == true, "\(errors)")
  }
}

/// Aliases nest values as deep as the anchors they repeat: a chain of anchors, each a list
/// holding an alias of the one before, is deep however flat the file looks. The fuzz suite found
/// that 50,000 such lines overflowed Yams' recursion (a crash); the bound now counts what each
/// alias repeats and stops at the alias that passes it, before Yams builds anything. The crash
/// itself is reproduced through the binary in `EndToEndTests.FuzzRegressionTests`.
extension YAMLBoundsTests {
  @Test func aChainOfAnchorsDeeperThanTheBoundIsOneErrorAtTheAliasThatPassesIt() {
    let links = (1...129).map { "a\($0): &a\($0) [*a\($0 - 1)]" }
    let document = (["a0: &a0 [x]"] + links).joined(separator: "\n") + "\n"
    let errors = DesiredValidationTests.yaml(document)
    #expect(errors == [
      "d.yaml:128:14: error: values are nested more than 128 levels deep, counting what alias '*a126' repeats; desired-state files need a handful"
    ])
  }

  @Test func nestingFarPastLibyamlsOwnLimitIsOurErrorNotLibyamls() {
    let depth = 100_000
    let document = "models: " + String(repeating: "{a: ", count: depth) + "1" + String(repeating: "}", count: depth) + "\n"
    let errors = DesiredValidationTests.yaml(document)
    #expect(errors == ["d.yaml:1:518: error: values are nested more than 128 levels deep; desired-state files need a handful"])
  }
}

/// The value bound is the desired state's, not each file's: files each just under it add up to
/// one error at the value where the sum passes it, rather than as many times the work.
extension YAMLBoundsTests {
  @Test func filesUnderTheBoundAddUpToOneErrorInTheFileThatPassesIt() {
    // Eleven levels of three: about 354,000 values per file once expanded; six files pass 2,000,000.
    var anchors = ["a0: &a0 [x, x, x]"]
    for level in 1..<11 { anchors.append("a\(level): &a\(level) [*a\(level - 1), *a\(level - 1), *a\(level - 1)]") }
    let document = "policy:\n  tiers:\n    bomb: {" + anchors.joined(separator: ", ") + "}\n"
    let errors = DesiredValidationTests.diagnostics((1...6).map { ("d\($0).yaml", document) })
    #expect(errors.filter { $0.contains("expands to more than") } == [
      "d6.yaml:3:190: error: the desired state expands to more than 2000000 values (aliases repeated over and over?); desired-state files are far smaller — write the values out"
    ])
  }
}
