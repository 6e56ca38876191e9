import ArgumentParser
import Foundation
import ReconcileCore
import ReconcileRuntime

/// `reconcile verify [--full]`: rehash blobs and report any whose content is not what its name says.
struct VerifyCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "verify", abstract: "Rehash stored files (all cores) and report mismatches; exit 1 on any.",
    discussion: "Without --full, only files whose stat fingerprint changed since they were last verified are hashed.")

  @OptionGroup var global: GlobalOptions

  @Flag(help: "Rehash every blob, including those trusted by fingerprint.")
  var full = false

  func run() throws {
    Shutdown.commandIsCancellable()
    let clean = try ErrorReporting.run { () -> Bool in
      let session = try global.session()
      guard let registry = try session.existingRegistry() else {
        print("Nothing to verify: \(session.root.path) holds no store yet.")
        return true
      }
      let observed = try session.observe()
      let started = Date()
      let results = try StoreVerifier(root: session.root, registry: registry).verify(observed, full: full, cancellation: Shutdown.flag)
      let seconds = Date().timeIntervalSince(started)
      let bytes = results.reduce(Int64(0)) { $0 + $1.bytes }
      let bad = results.filter { !$0.matches }
      for result in bad {
        let users = result.usedBy.isEmpty ? "no view" : result.usedBy.joined(separator: ", ")
        if let error = result.error {
          ErrorReporting.report(["error: cannot read blob \(result.digest.short)… (\(users)): \(error)"])
        } else {
          ErrorReporting.report(["error: blob \(result.digest.hex) (\(users)) hashes to \(result.actual?.hex ?? "?"); 'reconcile apply' moves it to quarantine and fetches it again"])
        }
      }
      let rate = seconds > 0 ? " (\(ByteFormat.binary(Int64(Double(bytes) / seconds)))/s)" : ""
      let skipped = observed.blobs.count - results.count
      let trust = full || skipped == 0 ? "" : "; \(skipped) trusted by fingerprint (use --full to rehash them too)"
      if let signal = Shutdown.signalName {
        let message = "Verify interrupted by \(signal) after \(results.count) blob\(results.count == 1 ? "" : "s") (\(ByteFormat.binary(bytes))): \(bad.isEmpty ? "all of those match" : "\(bad.count) mismatched"); the blobs it finished are recorded, run verify again for the rest."
        Log.final("interrupted", message: message, signal: signal)
        Shutdown.exitIfSignalled()
      }
      print("Verified \(results.count) blob\(results.count == 1 ? "" : "s") (\(ByteFormat.binary(bytes))) in \(ByteFormat.fixed(seconds, 2)) s\(rate): \(bad.isEmpty ? "all match" : "\(bad.count) mismatched")\(trust).")
      return bad.isEmpty
    }
    if !clean { throw ExitCode.failure }
  }
}
