import Foundation
import Testing
@testable import ReconcileCore

/// Plain values for planner tests: digests, files, models, and a node's disk built step by step.
enum PlanFixture {
  /// The instant every planner test plans at.
  static let now = Date(timeIntervalSince1970: 1_750_000_000)
  /// One hour in seconds.
  static let hour: TimeInterval = 3600

  /// A valid digest that encodes `n`, so tests can name content by number.
  static func digest(_ n: Int) -> Digest {
    let hex = String(n, radix: 16)
    return Digest(hex: String(repeating: "0", count: 64 - hex.count) + hex)!
  }

  /// A file of content number `n`.
  static func file(_ path: String, _ n: Int, _ size: Int64) -> FileSpec {
    FileSpec(path: path, size: size, sha256: digest(n))
  }

  /// A model with the given variants.
  static func model(
    _ name: String, version: String = "1.0", _ variants: [Variant], requires: [ModelReference] = [], pin: Bool = false, defaultVariant: String? = nil
  ) -> Model {
    Model(name: name, version: version, sources: [SourceURL(scheme: .https, url: "https://mirror.example/\(name)/")], defaultVariant: defaultVariant, variants: variants, requires: requires, pin: pin)
  }

  /// A reference to `name@version[:variant]`.
  static func ref(_ name: String, _ version: String = "1.0", _ variant: String? = nil, pin: Bool = false) -> ModelReference {
    ModelReference(model: ModelID(name: name, version: version), variant: variant, pin: pin)
  }

  /// `name@version:variant`.
  static func id(_ name: String, _ variant: String, version: String = "1.0") -> VariantID {
    VariantID(name: name, version: version, variant: variant)
  }

  /// A pool node with a disk of `disk` bytes.
  static func node(_ name: String, disk: Int64 = 1 << 40, draining: Bool = false) -> PoolNode {
    PoolNode(name: name, disk: disk, draining: draining)
  }
}

/// A change reduced to what the plan tables assert: action, subject, reason and bytes.
struct ChangeLine: Hashable, Sendable, CustomStringConvertible {
  var action: Action
  var subject: String
  var reason: Reason
  var bytes: Int64

  init(_ action: Action, _ subject: String, _ reason: Reason, _ bytes: Int64) {
    self.action = action
    self.subject = subject
    self.reason = reason
    self.bytes = bytes
  }

  init(_ change: Change) {
    self.init(change.action, change.subject.description, change.reason, change.bytes)
  }

  var description: String { "\(action) \(subject) \(reason) \(bytes)" }
}

/// A node's root being put together for a test: blobs and views with consistent fingerprints.
///
/// A view linked to a blob shares its fingerprint (a hard link is the same inode), and its
/// `verifiedDigest` is what the scanner would report: the digest when the blob is verified.
struct DiskBuilder {
  var observed = ObservedState()
  var nextInode: UInt64 = 100

  /// Builds an observed state.
  static func build(_ body: (inout DiskBuilder) -> Void) -> ObservedState {
    var disk = DiskBuilder()
    body(&disk)
    return disk.observed
  }

  /// A fingerprint of a new file on the store's device.
  mutating func fresh(size: Int64, device: UInt64 = 1) -> StatFingerprint {
    nextInode += 1
    return StatFingerprint(device: device, inode: nextInode, size: size, mtimeNs: Int64(nextInode) * 1000, ctimeNs: Int64(nextInode) * 1000)
  }

  /// Puts blob `n` in the store (replacing any earlier one with a new inode).
  mutating func blob(_ n: Int, size: Int64, _ verification: Verification = .verified) {
    observed.blobs[PlanFixture.digest(n)] = ObservedBlob(digest: PlanFixture.digest(n), fingerprint: fresh(size: size), verification: verification)
  }

  /// Removes blob `n` from the store; views linked to it keep the inode.
  mutating func dropBlob(_ n: Int) { observed.blobs[PlanFixture.digest(n)] = nil }

  /// Sets one view file.
  mutating func put(_ variant: VariantID, _ path: String, _ file: ObservedFile) {
    observed.variants[variant, default: ObservedVariant(id: variant)].files[path] = file
  }

  /// Makes `path` of `variant` a hard link to blob `n`, which must exist.
  mutating func link(_ variant: VariantID, _ path: String, to n: Int) {
    guard let blob = observed.blobs[PlanFixture.digest(n)] else { preconditionFailure("no blob \(n)") }
    put(variant, path, ObservedFile(fingerprint: blob.fingerprint, verifiedDigest: blob.verification == .verified ? blob.digest : nil))
  }

  /// Makes `path` of `variant` a regular file of its own (a copy, not a link).
  mutating func copy(_ variant: VariantID, _ path: String, size: Int64, verified n: Int? = nil) {
    put(variant, path, ObservedFile(fingerprint: fresh(size: size), verifiedDigest: n.map(PlanFixture.digest)))
  }

  /// Makes `path` of `variant` a symbolic link, which reconcile never follows.
  mutating func symlink(_ variant: VariantID, _ path: String) {
    put(variant, path, ObservedFile(fingerprint: fresh(size: 40), isRegularFile: false))
  }

  /// Makes `path` of `variant` a file on another device whose inode number equals blob `n`'s.
  mutating func otherDevice(_ variant: VariantID, _ path: String, sameInodeAs n: Int) {
    guard let blob = observed.blobs[PlanFixture.digest(n)] else { preconditionFailure("no blob \(n)") }
    var fingerprint = blob.fingerprint
    fingerprint.device = 2
    put(variant, path, ObservedFile(fingerprint: fingerprint))
  }

  /// Removes one view file.
  mutating func remove(_ variant: VariantID, _ path: String) { observed.variants[variant]?.files[path] = nil }

  /// Fills in what `desired` declares: a verified blob for every digest not yet stored and a
  /// link for every view file not yet present.
  mutating func hold(_ desired: DesiredState, only variants: Set<VariantID>? = nil) {
    for model in desired.models {
      for variant in model.variants {
        let id = VariantID(model: model.id, variant: variant.name)
        guard variants?.contains(id) ?? true else { continue }
        for file in variant.files {
          if observed.blobs[file.sha256] == nil {
            observed.blobs[file.sha256] = ObservedBlob(digest: file.sha256, fingerprint: fresh(size: file.size), verification: .verified)
          }
          if observed.variants[id]?.files[file.path] == nil, let blob = observed.blobs[file.sha256] {
            put(id, file.path, ObservedFile(fingerprint: blob.fingerprint, verifiedDigest: blob.verification == .verified ? blob.digest : nil))
          }
        }
      }
    }
  }
}
