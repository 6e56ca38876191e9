import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// A real PostgreSQL cluster for the tests: `initdb` into a temporary directory and `pg_ctl` on
/// a free loopback port, as the `postgres` user when the tests run as root (initdb refuses
/// root). Local connections are trusted; the cluster is stopped and removed by `stop()`, and
/// the shared one when the test process exits.
public final class PostgresServer: @unchecked Sendable {
  /// The cluster's directory.
  public let directory: String
  /// Its port on 127.0.0.1.
  public let port: Int
  private let binaries: String
  private let lock = NSLock()
  private var running = false

  /// Why a cluster could not be started.
  public struct Failure: Error, CustomStringConvertible {
    /// What failed, with the command's output.
    public var description: String
  }

  /// One cluster shared by every test of the process, started on first use.
  public static func shared() throws -> PostgresServer {
    try sharedLock.withLock {
      if let server = sharedServer { return server }
      let server = try PostgresServer()
      sharedServer = server
      atexit { PostgresServer.sharedServer?.stop() }
      return server
    }
  }

  nonisolated(unsafe) private static var sharedServer: PostgresServer?
  private static let sharedLock = NSLock()

  /// Creates and starts a cluster of its own.
  public init() throws {
    guard let bin = Self.findBinaries() else {
      throw Failure(description: "no PostgreSQL server binaries under /usr/lib/postgresql; install Debian's 'postgresql' (make test does, as root)")
    }
    binaries = bin
    let base = FileManager.default.temporaryDirectory.appendingPathComponent("reconcile-pg-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
    directory = base
    port = try Self.freePort()
    if getuid() == 0 {
      guard chmod(base, 0o700) == 0, Self.chownToPostgres(base) else { throw Failure(description: "cannot hand \(base) to the postgres user") }
    }
    try run(["\(binaries)/initdb", "-D", directory + "/data", "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8"])
    try start()
  }

  /// A `postgresql://` URI for `database` as `user` (the superuser by default).
  public func uri(database: String = "postgres", user: String = "postgres", password: String? = nil) -> String {
    "postgresql://\(user)\(password.map { ":\($0)" } ?? "")@127.0.0.1:\(port)/\(database)"
  }

  /// Starts the cluster (again), waiting until it accepts connections.
  public func start() throws {
    try run([
      "\(binaries)/pg_ctl", "-D", directory + "/data", "-l", directory + "/log", "-w", "-t", "30",
      "-o", "-p \(port) -k \(directory) -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off", "start",
    ])
    lock.withLock { running = true }
  }

  /// Stops the cluster at once (`-m immediate`), as a crash or an operator would; `start()`
  /// brings it back with its data.
  public func halt() throws {
    try run(["\(binaries)/pg_ctl", "-D", directory + "/data", "-m", "immediate", "-w", "stop"])
    lock.withLock { running = false }
  }

  /// Stops the cluster if it runs and removes its directory.
  public func stop() {
    if lock.withLock({ running }) { try? halt() }
    try? FileManager.default.removeItem(atPath: directory)
  }

  /// A database of its own for one test, created with the superuser; returns its URI.
  public func createDatabase(_ prefix: String = "t") throws -> String {
    let name = "\(prefix)_\(UUID().uuidString.prefix(8).lowercased())"
    try run(["\(binaries)/psql", "-X", "-q", "-h", "127.0.0.1", "-p", "\(port)", "-U", "postgres", "-d", "postgres", "-c", "CREATE DATABASE \(name)"])
    return uri(database: name)
  }

  /// Runs SQL as the superuser in `database`.
  public func psql(_ sql: String, database: String) throws {
    try run(["\(binaries)/psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", "\(port)", "-U", "postgres", "-d", database, "-c", sql])
  }

  /// Runs a command (as `postgres` when root), failing with its output. It is spawned and
  /// reaped directly: output goes to a file, not a pipe, since the server pg_ctl starts would
  /// hold a pipe open for ever.
  private func run(_ arguments: [String]) throws {
    let command = getuid() == 0 ? ["/usr/sbin/runuser", "-u", "postgres", "--"] + arguments : arguments
    let outputPath = FileManager.default.temporaryDirectory.appendingPathComponent("reconcile-pg-output-\(UUID().uuidString)").path
    defer { unlink(outputPath) }
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    posix_spawn_file_actions_adddup2(&actions, 1, 2)
    // The server pg_ctl starts lives on: it must not inherit this process's other descriptors
    // (a pipe another test server waits to see closed, say).
    for fd in 3..<Int32(min(sysconf(Int32(_SC_OPEN_MAX)), 4096)) where fcntl(fd, F_GETFD) != -1 {
      posix_spawn_file_actions_addclose(&actions, fd)
    }
    let argv = command.map { strdup($0) } + [nil]
    defer { argv.forEach { free($0) } }
    var pid = pid_t()
    let spawned = posix_spawn(&pid, command[0], &actions, nil, argv, environ)
    guard spawned == 0 else { throw Failure(description: "cannot run \(command[0]): error \(spawned)") }
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    let exited = (status & 0x7f) == 0
    let code = (status >> 8) & 0xff
    guard exited, code == 0 else {
      let text = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
      throw Failure(description: "\(arguments.joined(separator: " ")) exited \(exited ? code : -1): \(text)")
    }
  }

  /// The newest `/usr/lib/postgresql/N/bin`.
  static func findBinaries() -> String? {
    let versions = ((try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? []).compactMap { Int($0) }.sorted()
    return versions.last.map { "/usr/lib/postgresql/\($0)/bin" }.flatMap { FileManager.default.fileExists(atPath: $0 + "/initdb") ? $0 : nil }
  }

  static func chownToPostgres(_ path: String) -> Bool {
    guard let user = getpwnam("postgres") else { return false }
    return chown(path, user.pointee.pw_uid, user.pointee.pw_gid) == 0
  }

  /// A loopback port nothing listens on now.
  public static func freePort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw Failure(description: "socket: \(errno)") }
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
    guard bound == 0 else { throw Failure(description: "bind: \(errno)") }
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
    return Int(UInt16(bigEndian: address.sin_port))
  }
}
