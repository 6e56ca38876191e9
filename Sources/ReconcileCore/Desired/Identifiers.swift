/// A SHA-256 digest as 64 lowercase hex digits.
public struct Digest: Sendable, Hashable, TextCodable, Comparable, CustomStringConvertible {
  /// The 64 lowercase hex digits.
  public let hex: String

  /// Accepts exactly 64 lowercase hex digits; nil otherwise.
  public init?(hex: String) {
    guard Digest.isValid(hex) else { return nil }
    self.hex = hex
  }

  /// Whether `text` is 64 lowercase hex digits.
  public static func isValid(_ text: String) -> Bool {
    text.utf8.count == 64 && text.utf8.allSatisfy { (48...57).contains($0) || (97...102).contains($0) }
  }

  /// Hashes the first 16 digits only: a digest's digits are already uniformly spread, and a
  /// desired state hashes one for every file it lists.
  public func hash(into hasher: inout Hasher) {
    var prefix: UInt64 = 0
    for byte in hex.utf8.prefix(16) { prefix = prefix << 4 | UInt64(byte <= 57 ? byte &- 48 : byte &- 87) & 0xF }
    hasher.combine(prefix)
  }

  /// The first 12 digits, enough to tell digests apart in messages.
  public var short: String { String(hex.prefix(12)) }

  /// The 64 hex digits.
  public var description: String { hex }

  /// Orders digests by their hex digits.
  public static func < (lhs: Digest, rhs: Digest) -> Bool { lhs.hex < rhs.hex }

  /// Same as `init?(hex:)`.
  public init?(parsing text: String) { self.init(hex: text) }
}

/// A model at a version: the unit desired-state files declare.
public struct ModelID: Sendable, Hashable, TextCodable, Comparable, CustomStringConvertible {
  /// The model's name, `[a-z0-9._-]+`.
  public var name: String
  /// The model's version as written.
  public var version: String

  /// Creates a model identifier.
  public init(name: String, version: String) {
    self.name = name
    self.version = version
  }

  /// `name@version`.
  public var description: String { "\(name)@\(version)" }

  /// Orders by name, then version as written.
  public static func < (lhs: ModelID, rhs: ModelID) -> Bool {
    (lhs.name, lhs.version) < (rhs.name, rhs.version)
  }

  /// Parses `name@version`.
  public init?(parsing text: String) {
    guard let reference = ModelReference(parsing: text), reference.variant == nil else { return nil }
    self = reference.model
  }

}

/// One variant of a model at a version: the unit a node stores and a plan line names.
public struct VariantID: Sendable, Hashable, TextCodable, Comparable, CustomStringConvertible {
  /// The model and version.
  public var model: ModelID
  /// The variant's name, for example `fp16`.
  public var variant: String

  /// Creates a variant identifier.
  public init(model: ModelID, variant: String) {
    self.model = model
    self.variant = variant
  }

  /// Creates a variant identifier from its parts.
  public init(name: String, version: String, variant: String) {
    self.init(model: ModelID(name: name, version: version), variant: variant)
  }

  /// `name@version:variant`.
  public var description: String { "\(model):\(variant)" }

  /// The view directory relative to the node root: `models/<name>/<version>/<variant>`.
  public var viewPath: String { "models/\(model.name)/\(model.version)/\(variant)" }

  /// Orders by model, then variant name.
  public static func < (lhs: VariantID, rhs: VariantID) -> Bool {
    (lhs.model, lhs.variant) < (rhs.model, rhs.variant)
  }

  /// Parses `name@version:variant`.
  public init?(parsing text: String) {
    guard let reference = ModelReference(parsing: text), let variant = reference.variant else { return nil }
    self.init(model: reference.model, variant: variant)
  }

}

/// A value written in JSON as its text form, such as `name@version:variant`.
public protocol TextCodable: Codable, CustomStringConvertible {
  /// Parses the text form; nil when the text has another shape.
  init?(parsing text: String)
}

extension TextCodable {
  /// Decodes the text form; an error names the type and the text when it does not parse.
  public init(from decoder: any Decoder) throws {
    let container = try decoder.singleValueContainer()
    let text = try container.decode(String.self)
    guard let value = Self(parsing: text) else {
      throw DecodingError.dataCorruptedError(in: container, debugDescription: "cannot read \(Self.self) from '\(text)'")
    }
    self = value
  }

  /// Encodes the text form.
  public func encode(to encoder: any Encoder) throws {
    var container = encoder.singleValueContainer()
    try container.encode(description)
  }
}
