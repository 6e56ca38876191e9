import Testing

@testable import ReconcileCore

/// Sizes that are each valid but add up past what any sum may hold: a positioned error in YAML
/// and TOML, never an overflow trap.
extension DesiredValidationTests {
  static let huge = "9223372036854775807"

  @Test func sizesThatAddUpPastTheBoundAreAnErrorInYAML() {
    let document = """
      models:
        - name: m
          version: "1"
          sources: [hf://org/m]
          variants:
            v:
              files:
                - { path: a.bin, size: \(Self.huge), sha256: \(Self.hex("a")) }
                - { path: b.bin, size: \(Self.huge), sha256: \(Self.hex("b")) }
                - { path: c.bin, size: \(Self.huge), sha256: \(Self.hex("c")) }
      """
    #expect(Self.yaml(document) == [
      "d.yaml:8:63: error: size 9223372036854775807 of m@1:v a.bin is too large: the desired state's files add up to more than 1 EiB (1152921504606846976 bytes); check the file's 'size'"
    ])
  }

  @Test func sizesThatAddUpPastTheBoundAreAnErrorInTOML() {
    let files = ["a", "b", "c"].map { "{ path = \"\($0).bin\", size = \(Self.huge), sha256 = \"\(Self.hex(Character($0)))\" }" }
    let document = """
      [[models]]
      name = "m"
      version = "1"
      sources = ["hf://org/m"]
      [models.variants.v]
      files = [\(files.joined(separator: ", "))]
      """
    let errors = Self.toml(document)
    #expect(errors.count == 1 && errors.first?.contains("error: size 9223372036854775807 of m@1:v a.bin is too large") == true, "\(errors)")
  }

  @Test func manyModestSizesAcrossModelsAreSummedToo() {
    // 3 models of 512 PiB each: every size fits, the total does not.
    let models = (0..<3).map { index in
      """
        - name: m\(index)
          version: "1"
          sources: [hf://org/m]
          variants:
            v:
              files: [{ path: a.bin, size: \(Int64(1) << 59), sha256: \(Self.hex(Character("\(index + 1)"))) }]
      """
    }
    let errors = Self.yaml("models:\n" + models.joined(separator: "\n"))
    #expect(errors.count == 1 && errors.first?.contains("of m2@1:v a.bin is too large") == true, "\(errors)")
  }
}
