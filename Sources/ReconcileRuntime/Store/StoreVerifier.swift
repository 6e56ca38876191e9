import Foundation
import ReconcileCore

/// Rehashes blobs in parallel, on every core, and records the ones that match.
public struct StoreVerifier: Sendable {
  /// One blob's result.
  public struct Result: Sendable, Hashable {
    /// The digest the blob's name claims.
    public var digest: Digest
    /// What its content hashes to; nil when it could not be read.
    public var actual: Digest?
    /// Bytes read.
    public var bytes: Int64
    /// Why it could not be read.
    public var error: String?
    /// The views that use it, for messages.
    public var usedBy: [String]

    /// Whether the content matches the name.
    public var matches: Bool { actual == digest }
  }

  /// The store.
  public var root: NodeRoot
  /// The verified-file cache that learns the fingerprints of matching blobs.
  public var registry: any VerifiedFileCache

  /// Creates a verifier.
  public init(root: NodeRoot, registry: any VerifiedFileCache) {
    self.root = root
    self.registry = registry
  }

  /// Hashes every blob (`full`) or only those not trusted by fingerprint, `threads` at a time.
  ///
  /// When `cancellation` is set, no new blob starts and hashes in progress stop; only blobs
  /// hashed to the end are returned (and recorded).
  public func verify(
    _ observed: ObservedState, full: Bool, threads: Int = ProcessInfo.processInfo.activeProcessorCount, cancellation: CancellationFlag? = nil
  ) throws -> [Result] {
    let index = ObservedIndex(observed)
    var users: [Digest: [String]] = [:]
    for (id, variant) in observed.variants {
      for (path, file) in variant.files {
        if let digest = index.digest(of: file) { users[digest, default: []].append("\(id) file \(path)") }
      }
    }
    let owners = users
    let root = self.root
    let blobs = observed.blobs.values.filter { full || $0.verification != .verified }.sorted { $0.size > $1.size }
    let results = Guarded([Result]())
    WorkerPool.run(count: blobs.count, width: threads, cancellation: cancellation) { position in
      let blob = blobs[position]
      let path = root.blob(blob.digest)
      var result = Result(digest: blob.digest, actual: nil, bytes: 0, error: nil, usedBy: (owners[blob.digest] ?? []).sorted())
      do {
        // Several files at once: each thread reads and hashes its own (one per core).
        let (digest, bytes) = blobs.count > 1 && threads > 1
          ? try FileHasher.digestOnThisThread(ofFileAt: path, cancellation: cancellation)
          : try FileHasher.digest(ofFileAt: path, cancellation: cancellation)
        result.actual = digest
        result.bytes = bytes
      } catch {
        if cancellation?.isCancelled == true { return }
        result.error = "\(path): \(error)"
      }
      results.update { $0.append(result) }
    }
    let matched = results.current.filter(\.matches).compactMap { result -> (StatFingerprint, Digest)? in
      guard let fingerprint = observed.blobs[result.digest]?.fingerprint, FileStatus.of(root.blob(result.digest))?.fingerprint == fingerprint else { return nil }
      return (fingerprint, result.digest)
    }
    try registry.recordVerified(matched, at: Date())
    return results.current.sorted { $0.digest < $1.digest }
  }
}
