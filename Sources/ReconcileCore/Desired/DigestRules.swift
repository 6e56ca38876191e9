/// What a sha256 in the desired state must look like.
enum DigestRules {
  /// The message for a malformed digest.
  static func problem(_ text: String) -> String {
    let count = text.unicodeScalars.count
    if count != 64 { return "sha256 must be 64 hex digits, got \(count)" }
    if text.lowercased() != text, Digest.isValid(text.lowercased()) { return "sha256 must be lowercase hex" }
    return "sha256 must be 64 lowercase hex digits (0-9, a-f)"
  }
}
