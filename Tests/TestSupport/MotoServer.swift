import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// A real S3 for tests: moto's server (`moto_server -H 127.0.0.1 -p PORT`, PyPI `moto[server]`)
/// on a free loopback port, filled with boto3 (`python3 -c …`).
///
/// moto accepts any credentials until `requireSignatures()`; from then on every request must be
/// signed by a user or role created here, and moto recomputes the SigV4 signature (with botocore)
/// and checks IAM policies. Create everything first: afterwards this object's own boto3 calls
/// are refused too.
///
/// moto runs under a small Python watchdog that stops it when its stdin closes, so the server
/// ends with this object or, at the latest, with the test process.
public final class MotoServer: @unchecked Sendable {
  /// Keys for signing requests to this server.
  public struct Credentials: Sendable {
    /// The access key id.
    public var accessKeyID: String
    /// The secret access key.
    public var secretAccessKey: String
    /// The session token of an assumed role.
    public var sessionToken: String?

    /// Keys given outright.
    public init(accessKeyID: String, secretAccessKey: String, sessionToken: String? = nil) {
      self.accessKeyID = accessKeyID
      self.secretAccessKey = secretAccessKey
      self.sessionToken = sessionToken
    }
  }

  /// The server could not be started or a boto3 script failed.
  public struct Failure: Error, CustomStringConvertible {
    /// What went wrong, with what to install when something is missing.
    public var description: String
  }

  /// `http://127.0.0.1:PORT`, without a trailing slash.
  public let endpoint: String
  /// The region boto3 uses here.
  public let region = "us-east-1"

  private let server: ServerProcess
  private let log: URL

  /// What to install when moto or boto3 is missing.
  public static let installHint = "install moto and boto3 with: python3 -m pip install 'moto[server]' boto3"

  /// Starts moto on a free port and waits until it answers.
  public init() throws {
    let port = try MotoServer.freePort()
    log = FileManager.default.temporaryDirectory.appendingPathComponent("reconcile-moto-\(UUID().uuidString).log")
    _ = FileManager.default.createFile(atPath: log.path, contents: nil)
    do {
      server = try ServerProcess(
        python: ["-c", MotoServer.watchdog, String(port), log.path], output: FileHandle.nullDevice,
        error: try FileHandle(forWritingTo: log), grace: 10)
    } catch {
      throw Failure(description: "python3 could not be started (\(error)); moto's server needs it: \(MotoServer.installHint)")
    }
    endpoint = "http://127.0.0.1:\(port)"

    let deadline = Date().addingTimeInterval(60)
    while !MotoServer.answers(port: port) {
      guard server.isRunning else {
        let status = server.process.terminationStatus
        let output = logTail()
        let hint = output.contains("pip install") ? "" : "; if moto is missing, \(MotoServer.installHint)"
        throw Failure(description: "moto_server did not start (exit \(status)): \(output)\(hint)")
      }
      guard Date() < deadline else {
        stop()
        throw Failure(description: "moto_server did not answer on \(endpoint) within 60 s: \(logTail())")
      }
      usleep(50_000)
    }
  }

  deinit {
    stop()
    try? FileManager.default.removeItem(at: log)
  }

  /// Stops the server and waits for it to exit.
  public func stop() { server.stop() }

  // MARK: Filling the store

  /// Creates buckets.
  public func createBuckets(_ names: [String]) throws {
    try python("for name in json.load(sys.stdin): s3.create_bucket(Bucket=name)", input: JSONSerialization.data(withJSONObject: names))
  }

  /// Uploads objects (key → content) into `bucket`.
  public func putObjects(_ objects: [String: Data], in bucket: String) throws {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("reconcile-moto-upload-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    var manifest: [[String: String]] = []
    for (index, (key, data)) in objects.sorted(by: { $0.key < $1.key }).enumerated() {
      let file = directory.appendingPathComponent(String(index))
      try data.write(to: file)
      manifest.append(["key": key, "file": file.path])
    }
    try python(
      """
      manifest = json.load(sys.stdin)
      for item in manifest["objects"]:
          with open(item["file"], "rb") as body:
              s3.put_object(Bucket=manifest["bucket"], Key=item["key"], Body=body.read())
      """,
      input: JSONSerialization.data(withJSONObject: ["bucket": bucket, "objects": manifest]))
  }

  /// An IAM user with an inline policy allowing `actions` (such as `s3:GetObject`) on every
  /// resource (none: a user who may do nothing), and its access key.
  public func createUser(_ name: String, allowing actions: [String]) throws -> Credentials {
    let output = try python(
      """
      spec = json.load(sys.stdin)
      iam.create_user(UserName=spec["name"])
      if spec["actions"]:
          iam.put_user_policy(UserName=spec["name"], PolicyName="reconcile-test", PolicyDocument=json.dumps(
              {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": spec["actions"], "Resource": "*"}]}))
      key = iam.create_access_key(UserName=spec["name"])["AccessKey"]
      print(json.dumps({"id": key["AccessKeyId"], "secret": key["SecretAccessKey"]}))
      """,
      input: JSONSerialization.data(withJSONObject: ["name": name, "actions": actions]))
    return try MotoServer.credentials(output)
  }

  /// Temporary credentials (with a session token) from STS AssumeRole for a new role allowed
  /// `actions` on every resource.
  public func assumeRole(_ name: String, allowing actions: [String]) throws -> Credentials {
    let output = try python(
      """
      spec = json.load(sys.stdin)
      trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}]}
      role = iam.create_role(RoleName=spec["name"], AssumeRolePolicyDocument=json.dumps(trust))["Role"]
      iam.put_role_policy(RoleName=spec["name"], PolicyName="reconcile-test", PolicyDocument=json.dumps(
          {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": spec["actions"], "Resource": "*"}]}))
      keys = sts.assume_role(RoleArn=role["Arn"], RoleSessionName="reconcile-test")["Credentials"]
      print(json.dumps({"id": keys["AccessKeyId"], "secret": keys["SecretAccessKey"], "token": keys["SessionToken"]}))
      """,
      input: JSONSerialization.data(withJSONObject: ["name": name, "actions": actions]))
    return try MotoServer.credentials(output)
  }

  /// From now on moto checks every request's signature and IAM permissions (`POST
  /// /moto-api/reset-auth` with 0: no unauthenticated requests left).
  public func requireSignatures() throws {
    try python(
      """
      import urllib.request
      # Not a form: moto reads the count from the raw body.
      urllib.request.urlopen(urllib.request.Request(endpoint + "/moto-api/reset-auth", data=b"0", method="POST", headers={"Content-Type": "text/plain"})).read()
      """)
  }

  /// Runs `script` with `json`, `sys`, `endpoint` and boto3 clients `s3` (path-style), `iam` and
  /// `sts` for this server; `input` is its stdin. Returns its stdout.
  @discardableResult
  public func python(_ script: String, input: Data = Data()) throws -> String {
    let run = try ChildProcess.run("/usr/bin/env", ["python3", "-c", MotoServer.prelude + script, endpoint, region], stdin: input)
    guard run.terminationStatus == 0 else {
      let text = run.stderr.split(separator: "\n").suffix(3).joined(separator: "\n")
      throw Failure(description: "boto3 script against moto failed (exit \(run.terminationStatus)): \(text)")
    }
    return run.stdout
  }

  // MARK: Helpers

  private static func credentials(_ output: String) throws -> Credentials {
    guard let object = try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: String],
      let id = object["id"], let secret = object["secret"]
    else { throw Failure(description: "unexpected output from boto3: \(output.prefix(200))") }
    return Credentials(accessKeyID: id, secretAccessKey: secret, sessionToken: object["token"])
  }

  private func logTail() -> String {
    let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
    let tail = text.split(separator: "\n").suffix(5).joined(separator: "\n")
    return tail.isEmpty ? "no output" : tail
  }

  /// Whether something accepts connections on 127.0.0.1:`port`.
  private static func answers(port: UInt16) -> Bool {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { return false }
    defer { close(fd) }
    var address = loopback(port)
    return withUnsafePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    } == 0
  }

  /// A port nothing listens on now: the kernel's pick for a socket bound to port 0.
  private static func freePort() throws -> UInt16 {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw Failure(description: "socket: \(String(cString: strerror(errno)))") }
    defer { close(fd) }
    var address = loopback(0)
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
    }
    guard bound else { throw Failure(description: "bind: \(String(cString: strerror(errno)))") }
    return UInt16(bigEndian: address.sin_port)
  }

  private static func loopback(_ port: UInt16) -> sockaddr_in {
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = port.bigEndian
    address.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian
    return address
  }

  /// Runs `moto_server` on the port in argv[1], logging to argv[2], until stdin closes.
  private static let watchdog = """
    import shutil, signal, subprocess, sys
    exe = shutil.which("moto_server")
    if exe is None:
        sys.exit("moto_server is not on PATH; \(installHint)")
    with open(sys.argv[2], "ab") as log:
        server = subprocess.Popen([exe, "-H", "127.0.0.1", "-p", sys.argv[1]], stdout=log, stderr=log, stdin=subprocess.DEVNULL)
    def stop(*_):
        server.terminate()
        try:
            server.wait(1)
        except subprocess.TimeoutExpired:
            server.kill()
        sys.exit(0)
    signal.signal(signal.SIGTERM, stop)
    sys.stdin.read()
    stop()
    """

  /// What every boto3 script starts with; argv[1] is the endpoint, argv[2] the region.
  private static let prelude = """
    import json, sys
    try:
        import boto3
        from botocore.config import Config
    except ImportError as error:
        sys.exit(f"boto3 is missing ({error}); \(installHint)")
    endpoint = sys.argv[1]
    _options = dict(endpoint_url=endpoint, region_name=sys.argv[2], aws_access_key_id="testing", aws_secret_access_key="testing")
    s3 = boto3.client("s3", config=Config(s3={"addressing_style": "path"}), **_options)
    iam = boto3.client("iam", **_options)
    sts = boto3.client("sts", **_options)

    """
}
