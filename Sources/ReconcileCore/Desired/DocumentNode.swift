/// A parsed YAML or TOML document as a tree that remembers where each value came from.
///
/// Both syntaxes are read into this one shape, so the schema is decoded and validated once
/// and the same content in YAML and TOML yields equal values.
public enum DocumentNode: Sendable, Hashable {
  /// A scalar: its text as written (without quotes) and what kind of scalar it is.
  case scalar(Scalar)
  /// A mapping, in document order.
  case mapping(Mapping)
  /// A sequence.
  case sequence([DocumentNode], SourceLocation)

  /// A scalar value and where it starts.
  public struct Scalar: Sendable, Hashable {
    /// The kinds of scalars the two syntaxes share.
    public enum Kind: String, Sendable, Hashable {
      case string, integer, float, boolean, null, datetime
    }
    /// The value's text: for strings the unquoted, unescaped content; for numbers the literal.
    public var text: String
    /// What the syntax says the scalar is.
    public var kind: Kind
    /// Where the scalar starts.
    public var location: SourceLocation

    /// Creates a scalar.
    public init(text: String, kind: Kind, location: SourceLocation) {
      self.text = text
      self.kind = kind
      self.location = location
    }
  }

  /// One key and its value.
  public struct Entry: Sendable, Hashable {
    /// The key's text.
    public var key: String
    /// Where the key starts.
    public var keyLocation: SourceLocation
    /// The value.
    public var value: DocumentNode

    /// Creates an entry.
    public init(key: String, keyLocation: SourceLocation, value: DocumentNode) {
      self.key = key
      self.keyLocation = keyLocation
      self.value = value
    }
  }

  /// A mapping's entries and where the mapping starts.
  public struct Mapping: Sendable, Hashable {
    /// The entries, in document order.
    public var entries: [Entry]
    /// Where the mapping starts.
    public var location: SourceLocation

    /// Creates a mapping.
    public init(entries: [Entry], location: SourceLocation) {
      self.entries = entries
      self.location = location
    }

    /// The entry for `key`, if present.
    public subscript(key: String) -> Entry? {
      for index in entries.indices where entries[index].key == key { return entries[index] }
      return nil
    }
  }

  /// Where this node starts.
  public var location: SourceLocation {
    switch self {
    case .scalar(let scalar): scalar.location
    case .mapping(let mapping): mapping.location
    case .sequence(_, let location): location
    }
  }

  /// A short name of the node's type for messages: "a string", "a mapping", ….
  public var typeDescription: String {
    switch self {
    case .scalar(let scalar):
      switch scalar.kind {
      case .string: "a string"
      case .integer: "an integer"
      case .float: "a number"
      case .boolean: "a boolean"
      case .null: "null"
      case .datetime: "a date"
      }
    case .mapping: "a mapping"
    case .sequence: "a list"
    }
  }
}
