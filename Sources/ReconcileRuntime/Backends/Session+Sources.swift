import Foundation
import ReconcileCore

extension Session {
  /// The transfers for every supported scheme.
  public static func transfers(settings: SourceSettings) -> [SourceURL.Scheme: any Transfer] {
    let http = HTTPTransfer()
    return [.http: http, .https: http, .file: FileTransfer(), .hf: HubTransfer(settings: settings.hub, http: http), .s3: S3Transfer(settings: settings.s3, http: http)]
  }

  /// The listers `reconcile lock` can use, by scheme.
  public static func listers(settings: SourceSettings, desired: String) throws -> [SourceURL.Scheme: any SourceLister] {
    var isDirectory: ObjCBool = false
    let base = FileManager.default.fileExists(atPath: desired, isDirectory: &isDirectory) && isDirectory.boolValue ? desired : PathText.parent(of: desired)
    return [.file: FileSourceLister(baseDirectory: base), .hf: HubSourceLister(settings: settings.hub), .s3: S3SourceLister(settings: settings.s3)]
  }
}
