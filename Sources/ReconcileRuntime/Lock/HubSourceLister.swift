import Foundation
import ReconcileCore

/// Lists a Hub repository at a commit with its tree API: LFS files carry their SHA-256; the
/// others are fetched once and hashed.
public struct HubSourceLister: SourceLister {
  /// Endpoint and token.
  public var settings: HubSettings

  /// Creates a lister.
  public init(settings: HubSettings) { self.settings = settings }

  public func list(_ source: SourceURL, include: [Glob]) throws -> LockedListing {
    let reference = try HubReference(parsing: source.url)
    let api = HubAPI(settings: settings)
    let commit = try api.resolveRevision(reference)
    let pinned = reference.at(revision: commit).with(path: "")
    let pinnedURL = "hf://" + (reference.kind == .dataset ? "datasets/" : "") + "\(reference.repo)@\(commit)"
    var files: [FileSpec] = []
    for file in try api.listFiles(repo: reference.repo, kind: reference.kind, commit: commit) where Glob.any(include, match: file.path) {
      if let hex = file.lfsSHA256, let digest = Digest(hex: hex) {
        files.append(FileSpec(path: file.path, size: file.size, sha256: digest, gitSHA1: nil))
      } else {
        let (digest, size) = try hashByFetching(pinned.with(path: file.path), path: file.path, base: pinnedURL)
        files.append(FileSpec(path: file.path, size: size, sha256: digest, gitSHA1: file.gitOID))
      }
    }
    return LockedListing(pinned: SourceURL(scheme: .hf, url: pinnedURL), files: files)
  }

  /// Streams one file through the normal transfer into a temporary file, hashing it.
  func hashByFetching(_ reference: HubReference, path: String, base: String) throws -> (Digest, Int64) {
    let temporary = NSTemporaryDirectory() + "reconcile-lock-\(UUID().uuidString).part"
    defer {
      unlink(temporary)
      unlink(temporary + ".meta")
    }
    let url = SourceLocator(baseDirectory: "/").url(of: path, in: SourceURL(scheme: .hf, url: base))
    let result = try HubTransfer(settings: settings, http: HTTPTransfer(directIO: false)).fetch(TransferRequest(url: url, destination: temporary))
    return (result.digest, result.bytes)
  }
}

/// Where sources are and how to reach them: Hub endpoint and token, S3 endpoint, region and
/// credentials, read once from the environment and the config file.
public struct SourceSettings: Sendable {
  /// The Hugging Face Hub.
  public var hub: HubSettings
  /// S3 and S3-compatible stores.
  public var s3: S3Settings

  /// Creates settings.
  public init(hub: HubSettings = HubSettings(), s3: S3Settings = S3Settings()) {
    self.hub = hub
    self.s3 = s3
  }

  /// Reads `HF_ENDPOINT`, `HF_TOKEN`, the `AWS_*` variables, `~/.aws/credentials` and the
  /// config keys `hf_endpoint`, `s3_endpoint`, `s3_region`, `s3_path_style`.
  public static func from(environment: [String: String], config: [String: String]) throws -> SourceSettings {
    SourceSettings(
      hub: try HubSettings.from(environment: environment, config: config),
      s3: try S3Settings.from(environment: environment, config: config, home: environment["HOME"]))
  }
}

extension Session {
  /// The transfers for every supported scheme.
  public static func transfers(settings: SourceSettings) -> [SourceURL.Scheme: any Transfer] {
    let http = HTTPTransfer()
    return [.http: http, .https: http, .file: FileTransfer(), .hf: HubTransfer(settings: settings.hub, http: http), .s3: S3Transfer(settings: settings.s3, http: http)]
  }

  /// The listers `reconcile lock` can use, by scheme.
  public static func listers(settings: SourceSettings, desired: String) throws -> [SourceURL.Scheme: any SourceLister] {
    var isDirectory: ObjCBool = false
    let base = FileManager.default.fileExists(atPath: desired, isDirectory: &isDirectory) && isDirectory.boolValue ? desired : (desired as NSString).deletingLastPathComponent
    return [.file: FileSourceLister(baseDirectory: base), .hf: HubSourceLister(settings: settings.hub), .s3: S3SourceLister(settings: settings.s3)]
  }
}
