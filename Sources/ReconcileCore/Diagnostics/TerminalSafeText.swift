/// Text from a desired-state file made safe to print on one line of a terminal.
public enum TerminalSafeText {
  /// `text` with control characters written as escapes: line ends (`\n`, `\r`), tabs, escape
  /// sequences (`\u{1B}`), C1 controls and the bidirectional overrides that reorder what a
  /// terminal shows. A name or key holding them otherwise breaks a `file:line:col: error:` line
  /// in two, or recolours and rewrites the operator's terminal.
  public static func escaped(_ text: String) -> String {
    guard text.unicodeScalars.contains(where: needsEscape) else { return text }
    var out = ""
    for scalar in text.unicodeScalars {
      switch scalar {
      case "\n": out += "\\n"
      case "\r": out += "\\r"
      case "\t": out += "\\t"
      case _ where needsEscape(scalar): out += "\\u{" + String(scalar.value, radix: 16, uppercase: true) + "}"
      default: out.unicodeScalars.append(scalar)
      }
    }
    return out
  }

  /// C0 and C1 controls, DEL, and the bidirectional embeddings, overrides and isolates.
  static func needsEscape(_ scalar: Unicode.Scalar) -> Bool {
    switch scalar.value {
    case 0..<0x20, 0x7F...0x9F, 0x202A...0x202E, 0x2066...0x2069: true
    default: false
    }
  }
}
