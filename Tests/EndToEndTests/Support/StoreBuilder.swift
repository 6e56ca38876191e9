import Foundation

@testable import ReconcileCore
@testable import ReconcileRuntime

/// Lays out a node root by hand, as a finished apply would, so plan and status can be checked
/// against real files, hard links and a real registry.
struct StoreBuilder {
  let root: NodeRoot

  /// Copies `source` into the blob store (0444) and links it into the variant's view.
  func install(_ source: String, as file: FileSpec, in variant: VariantID, recordVerified registry: (any VerifiedFileCache)?) throws {
    let manager = FileManager.default
    let blob = root.blob(file.sha256)
    if !manager.fileExists(atPath: blob) {
      try manager.createDirectory(atPath: (blob as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
      try manager.copyItem(atPath: source, toPath: blob)
      try manager.setAttributes([.posixPermissions: 0o444], ofItemAtPath: blob)
    }
    let view = root.view(variant) + "/" + file.path
    try manager.createDirectory(atPath: (view as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
    try manager.linkItem(atPath: blob, toPath: view)
    if let registry, let status = FileStatus.of(blob) {
      try registry.recordVerified([(status.fingerprint, file.sha256)], at: Date())
    }
  }

  /// Installs every variant of the quickstart from its mirror.
  func installQuickstart(verified: Bool) throws {
    try FileManager.default.createDirectory(atPath: root.state, withIntermediateDirectories: true)
    let registry = try SQLiteRegistry(path: root.registry)
    let mirror = Binary.packageRoot.appendingPathComponent("Examples/quickstart/mirror").path
    let files = try Repository.quickstart()
    for model in files.models {
      for variant in model.variants {
        for file in variant.files {
          let source = "\(mirror)/\(model.name)/\(file.path)"
          try install(source, as: file, in: VariantID(model: model.id, variant: variant.name), recordVerified: verified ? registry : nil)
        }
      }
    }
  }
}

enum Repository {
  /// The quickstart's desired state, loaded in-process.
  static func quickstart() throws -> DesiredState {
    let directory = Binary.packageRoot.appendingPathComponent("Examples/quickstart")
    let names = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter(DesiredFile.isDesiredStateFile)
    return try DesiredStateLoader.load(names.map { DesiredFile(path: $0, text: try String(contentsOf: directory.appendingPathComponent($0), encoding: .utf8)) }).state
  }
}
