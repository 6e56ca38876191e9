/// The rule names in desired-state files follow.
enum Names {
  /// `[a-z0-9._-]+`, not `.` or `..`.
  static func isValid(_ name: String) -> Bool {
    !name.isEmpty && name != "." && name != ".."
      && name.utf8.allSatisfy { (97...122).contains($0) || (48...57).contains($0) || $0 == 46 || $0 == 95 || $0 == 45 }
  }
}
