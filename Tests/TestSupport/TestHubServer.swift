import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// A stand-in for the Hugging Face Hub on 127.0.0.1 for tests: `test_hub_server.py` run by
/// `python3`, with the Hub's API and resolve URLs on one port and its CDN on another, so that a
/// test can tell which requests carried `Authorization` where.
///
/// The script exits when its stdin closes, so it ends with this object or, at the latest, with
/// the test process.
public final class TestHubServer: @unchecked Sendable {
  /// One request a port saw (control requests are not logged).
  public struct LoggedRequest: Decodable, Sendable, Equatable {
    /// `GET` or `HEAD`.
    public var method: String
    /// The percent-decoded path.
    public var path: String
    /// The query string as sent, without `?`.
    public var query: String
    /// The `Range` header, if sent.
    public var range: String?
    /// The `If-Range` header, if sent.
    public var ifRange: String?
    /// Whether an `Authorization` header was sent (its value is never logged).
    public var authorizationPresent: Bool
    /// The client's port: requests with the same one came over the same connection.
    public var clientPort: Int?

    enum CodingKeys: String, CodingKey {
      case method, path, query, range
      case ifRange = "if_range"
      case authorizationPresent = "authorization_present"
      case clientPort = "client_port"
    }
  }

  /// A control request failed or the server did not start.
  public struct Failure: Error, CustomStringConvertible {
    /// What went wrong.
    public var description: String
  }

  /// Which of the two ports.
  public enum Port: Sendable {
    /// The Hub: API and resolve URLs.
    case hub
    /// The CDN the Hub redirects to for bytes.
    case cdn
  }

  /// `http://127.0.0.1:HUB_PORT`, the value for `HF_ENDPOINT`.
  public let endpoint: String
  /// The Hub's port.
  public let hubPort: UInt16
  /// The CDN's port.
  public let cdnPort: UInt16

  private let server: ServerProcess

  /// Starts a server for the repositories under `directory` (layout in `test_hub_server.py`).
  /// With `token`, the repositories `writeRepository(…, isPrivate: true)` made require it.
  /// `pageSize` is the number of tree entries a page (the Hub's is 1000).
  public init(serving directory: URL, token: String? = nil, pageSize: Int? = nil) throws {
    let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("test_hub_server.py")
    var arguments = [script.path, directory.path]
    if let token { arguments += ["--token", token] }
    if let pageSize { arguments += ["--page-size", String(pageSize)] }
    let (server, line) = try ServerProcess.launch(python: arguments)
    self.server = server
    let ports = line.split(separator: " ").compactMap { UInt16($0) }
    guard ports.count == 2 else {
      server.stop()
      throw Failure(description: "test_hub_server.py did not start (printed \(line.debugDescription))")
    }
    hubPort = ports[0]
    cdnPort = ports[1]
    endpoint = "http://127.0.0.1:\(hubPort)"
  }

  deinit { stop() }

  /// Every request `port` saw since the start or the last `reset()`, oldest first.
  public func requests(_ port: Port) throws -> [LoggedRequest] {
    let (status, body) = try call(port, "GET", "/__log")
    guard status == 200 else { throw Failure(description: "GET /__log answered \(status)") }
    return try JSONDecoder().decode([LoggedRequest].self, from: body)
  }

  /// Clears both request logs.
  public func reset() throws {
    for port in [Port.hub, .cdn] {
      let (status, _) = try call(port, "POST", "/__reset")
      guard status == 200 else { throw Failure(description: "POST /__reset answered \(status)") }
    }
  }

  /// Stops the server and waits for it to exit.
  public func stop() { server.stop() }

  /// Writes `files` as the content of `repo` (`ORG/REPO`) at `commit` under `directory`, points
  /// `refs` (branch or tag → commit) at commits, and lists the repository as private when asked.
  public static func writeRepository(
    in directory: URL, _ repo: String, dataset: Bool = false, commit: String, files: [String: Data],
    refs: [String: String] = [:], isPrivate: Bool = false
  ) throws {
    let repoID = (dataset ? "datasets/" : "") + repo
    let repoDirectory = directory.appendingPathComponent(repoID)
    for (path, data) in files {
      let file = repoDirectory.appendingPathComponent(commit).appendingPathComponent(path)
      try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
      try data.write(to: file)
    }
    try FileManager.default.createDirectory(at: repoDirectory.appendingPathComponent(commit), withIntermediateDirectories: true)
    let refsFile = repoDirectory.appendingPathComponent("refs.json")
    var allRefs = (try? JSONDecoder().decode([String: String].self, from: Data(contentsOf: refsFile))) ?? [:]
    allRefs.merge(refs) { _, new in new }
    try JSONEncoder().encode(allRefs).write(to: refsFile)
    if isPrivate {
      let listing = directory.appendingPathComponent("private.txt")
      let existing = (try? String(contentsOf: listing, encoding: .utf8)) ?? ""
      try (existing + repoID + "\n").write(to: listing, atomically: true, encoding: .utf8)
    }
  }

  /// One HTTP/1.1 request over a fresh loopback connection; the status and body of the answer.
  private func call(_ port: Port, _ method: String, _ path: String) throws -> (Int, Data) {
    try LoopbackHTTP.call(port: port == .hub ? hubPort : cdnPort, method, path)
  }
}
