import Synchronization

/// A position in a desired-state file: 1-based line and column (columns count Unicode scalars).
public struct SourceLocation: Sendable, Hashable, Codable, Comparable, CustomStringConvertible {
  /// The file, as its number in `SourceFiles`: a location is then three integers, copied
  /// without touching a reference count. Every value of a desired state carries one, and a
  /// 10,000-model file copies them millions of times, on two threads.
  let fileID: UInt32
  /// The line, starting at 1.
  public var line: Int
  /// The column, starting at 1.
  public var column: Int

  /// Creates a location.
  public init(file: String, line: Int, column: Int) {
    self.init(fileID: SourceFiles.id(of: file), line: line, column: column)
  }

  /// Creates a location in the file numbered `fileID` by `SourceFiles.id(of:)`.
  init(fileID: UInt32, line: Int, column: Int) {
    self.fileID = fileID
    self.line = line
    self.column = column
  }

  /// The file as the user named it, for example `Desired/models.yaml`.
  public var file: String { SourceFiles.name(of: fileID) }

  /// `file:line:column`, the form editors and compilers use.
  public var description: String { "\(file):\(line):\(column)" }

  public static func < (lhs: SourceLocation, rhs: SourceLocation) -> Bool {
    if lhs.fileID == rhs.fileID { return (lhs.line, lhs.column) < (rhs.line, rhs.column) }
    return (lhs.file, lhs.line, lhs.column) < (rhs.file, rhs.line, rhs.column)
  }

  enum CodingKeys: String, CodingKey {
    case file, line, column
  }

  public init(from decoder: any Decoder) throws {
    let container = try decoder.container(keyedBy: CodingKeys.self)
    self.init(
      file: try container.decode(String.self, forKey: .file), line: try container.decode(Int.self, forKey: .line),
      column: try container.decode(Int.self, forKey: .column))
  }

  public func encode(to encoder: any Encoder) throws {
    var container = encoder.container(keyedBy: CodingKeys.self)
    try container.encode(file, forKey: .file)
    try container.encode(line, forKey: .line)
    try container.encode(column, forKey: .column)
  }
}

/// The names of the files locations point into, each kept once for the process and numbered
/// in the order first seen. A process reads a handful of desired-state files (an agent the
/// same ones again and again), so the table stays as small as the set of names.
enum SourceFiles {
  private struct Table {
    var names: [String] = []
    var ids: [String: UInt32] = [:]
  }

  private static let table = Mutex(Table())

  /// The number of `name`, given it the first time.
  static func id(of name: String) -> UInt32 {
    table.withLock { table in
      if let id = table.ids[name] { return id }
      let id = UInt32(truncatingIfNeeded: table.names.count)
      table.names.append(name)
      table.ids[name] = id
      return id
    }
  }

  /// The name numbered `id`.
  static func name(of id: UInt32) -> String {
    table.withLock { table in Int(id) < table.names.count ? table.names[Int(id)] : "" }
  }
}
