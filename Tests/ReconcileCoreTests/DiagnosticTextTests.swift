import Testing

@testable import ReconcileCore

/// A diagnostic is one line however hostile the text it quotes: the fuzz suite found a node
/// named `"a\nb"` splitting `file:line:col: error:` in two, the second half with no place.
@Suite struct DiagnosticTextTests {
  @Test func aNameWithALineBreakIsReportedOnOneLine() {
    let document = """
      [[pools]]
      name = "p"
      nodes = [{ name = "a\\nb", disk = "1TiB" }]
      """
    #expect(DesiredValidationTests.toml(document) == [
      #"d.toml:3:19: error: name 'a\nb' must use only a-z, 0-9, '.', '_' and '-'"#
    ])
  }

  @Test(arguments: [
    ("a\u{1B}[31mred", #"a\u{1B}[31mred"#), ("tab\there", #"tab\there"#), ("cr\r", #"cr\r"#),
    ("\u{202E}txt.exe", #"\u{202E}txt.exe"#), ("\u{9B}31m", #"\u{9B}31m"#), ("plain é 🙂", "plain é 🙂"),
  ])
  func controlCharactersAreEscapes(_ text: String, _ shown: String) {
    #expect(TerminalSafeText.escaped(text) == shown)
    let diagnostic = Diagnostic.error(at: SourceLocation(file: "x\ny.yaml", line: 1, column: 2), "key '\(text)'")
    #expect(diagnostic.description == #"x\ny.yaml:1:2: error: key '"# + shown + "'")
  }
}
