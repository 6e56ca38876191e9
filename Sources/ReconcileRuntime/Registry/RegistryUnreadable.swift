/// The node's registry file is not a usable database (read by a command that does not repair it).
public struct RegistryUnreadable: Error, Sendable, CustomStringConvertible {
  /// The file.
  public var path: String
  /// What SQLite said.
  public var cause: String

  /// Which file, what happened, what to do.
  public var description: String {
    "registry \(path) could not be read (\(cause)); 'reconcile apply' moves it aside and starts a fresh one (files on disk are hashed again)"
  }
}
