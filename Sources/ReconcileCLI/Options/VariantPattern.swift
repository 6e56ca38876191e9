import ArgumentParser
import ReconcileCore

/// `name`, `name@version` or `name@version:variant`: which held variants a command means.
struct VariantPattern: Equatable {
  var name: String
  var version: String?
  var variant: String?

  init(name: String, version: String? = nil, variant: String? = nil) {
    self.name = name
    self.version = version
    self.variant = variant
  }

  /// Parses the pattern; an empty part is an error.
  init(parsing text: String) throws {
    let (name, rest) = Self.split(text, at: "@")
    let (version, variant) = rest.map { Self.split($0, at: ":") } ?? (nil, nil)
    guard !name.isEmpty, version?.isEmpty != true, variant?.isEmpty != true, !name.contains(":") else {
      throw ValidationError("'\(text)' is not MODEL, MODEL@VERSION or MODEL@VERSION:VARIANT")
    }
    self.init(name: name, version: version, variant: variant)
  }

  func matches(_ id: VariantID) -> Bool {
    id.model.name == name && (version.map { $0 == id.model.version } ?? true) && (variant.map { $0 == id.variant } ?? true)
  }

  private static func split(_ text: String, at separator: Character) -> (String, String?) {
    guard let index = text.firstIndex(of: separator) else { return (text, nil) }
    return (String(text[..<index]), String(text[text.index(after: index)...]))
  }
}
