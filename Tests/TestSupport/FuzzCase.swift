/// The kinds of damage a fuzz case does to one file of a valid desired-state tree.
public enum FuzzMutation: String, CaseIterable, Sendable {
  case byteFlip = "byte-flip"
  case truncation
  case deepNesting = "deep-nesting"
  case aliasBomb = "alias-bomb"
  case hugeNumber = "huge-number"
  case invalidUTF8 = "invalid-utf8"
  case nulBytes = "nul-bytes"
  case byteOrderMark = "bom"
  case crlf
  case pathTrick = "path-trick"
  case fileNameTrick = "file-name-trick"
  case duplicateKey = "duplicate-key"
  case typeConfusion = "type-confusion"
}

/// A valid desired-state tree from the repository that cases are made from.
public struct FuzzSeedTree: Sendable {
  /// Where it came from, for reports: `Examples/fleet`.
  public var label: String
  /// Its files, by name, with their text.
  public var files: [(name: String, text: String)]
  /// A node `plan` can be made for.
  public var node: String

  /// A tree; `node` is one of its pools' nodes, or any name when it has no pools.
  public init(label: String, files: [(name: String, text: String)], node: String) {
    self.label = label
    self.files = files
    self.node = node
  }
}

/// One file of a case, as bytes: a case may hold text that is not UTF-8.
public struct FuzzFile: Sendable, Hashable {
  /// The file's name inside the case's directory.
  public var name: String
  /// The content.
  public var bytes: [UInt8]

  /// A file.
  public init(name: String, bytes: [UInt8]) {
    self.name = name
    self.bytes = bytes
  }
}

/// How a case names its desired state to the commands: the directory plainly, or with path tricks.
public enum FuzzDesiredArgument: String, CaseIterable, Sendable {
  /// `DIR`
  case plain
  /// `DIR//`
  case doubledSlash
  /// `DIR/./`
  case dotSegment
  /// `DIR/../NAME`
  case parentAndBack
  /// The mutated file itself rather than its directory.
  case singleFile
}

/// One reproducible case: a seed tree with one file damaged by one or two mutations.
public struct FuzzCase: Sendable {
  /// The run's seed.
  public var seed: UInt64
  /// The case's number in the run: `seed` and `number` recreate it.
  public var number: Int
  /// The mutation the case is counted under.
  public var mutation: FuzzMutation
  /// The seed tree's label.
  public var tree: String
  /// The node to plan for.
  public var node: String
  /// The name of the damaged file (after renaming, for file-name tricks).
  public var target: String
  /// What was done, in words, for failure messages.
  public var detail: String
  /// Every file of the case's desired state.
  public var files: [FuzzFile]
  /// How the commands are given the directory.
  public var desiredArgument: FuzzDesiredArgument

  /// `seed 7 case 42 (deep-nesting, Examples/fleet/models.yaml: …)`.
  public var title: String { "seed \(seed) case \(number) (\(mutation.rawValue), \(tree)/\(target): \(detail))" }

  /// The directory name a failing case is saved under.
  public var directoryName: String { "seed-\(seed)-case-\(number)" }

  /// The desired-state argument for a case written to `directory`.
  public func desiredPath(in directory: String) -> String {
    let name = directory.split(separator: "/").last.map(String.init) ?? directory
    switch desiredArgument {
    case .plain: return directory
    case .doubledSlash: return directory + "//"
    case .dotSegment: return directory + "/./"
    case .parentAndBack: return directory + "/../" + name
    case .singleFile: return directory + "/" + target
    }
  }
}
