import ReconcileCore

/// The closing lines of an apply.
public enum ApplySummaryRenderer {
  /// The lines apply prints when it ends: what was done, or what failed and what to do.
  public static func text(_ summary: ApplySummary, plan: Plan) -> String {
    var parts: [String] = []
    for action in Action.allCases {
      let count = summary.succeeded[action] ?? 0
      guard count > 0 else { continue }
      let files = count == 1 ? "1 file" : "\(count) files"
      switch action {
      case .download: parts.append("\(files) downloaded (\(ByteFormat.binary(summary.downloadedBytes)))")
      case .verify: parts.append("\(files) verified (\(ByteFormat.binary(summary.verifiedBytes)))")
      case .link: parts.append("\(files) linked")
      case .publish: parts.append("\(count) published")
      case .evict: parts.append("\(count) evicted (freed \(ByteFormat.binary(summary.freedBytes)))")
      case .unlink: parts.append("\(count) unlinked")
      }
    }
    let took = "in \(ByteFormat.fixed(summary.seconds, 1)) s"
    var lines: [String] = []
    for path in summary.quarantined { lines.append("quarantined: \(path)") }
    for (variant, requires) in summary.waiting {
      lines.append("waiting: \(variant) is not published until \(requires.map(\.description).joined(separator: ", ")) \(requires.count == 1 ? "is" : "are") verified")
    }
    if !summary.tenantViews.isEmpty { lines.append("Updated tenant views: \(summary.tenantViews.joined(separator: ", ")).") }
    if !summary.published.isEmpty, let cache = plan.changes(.publish).first?.publication?.cache {
      lines.append("Hugging Face cache \(cache): \(summary.published.joined(separator: ", ")).")
    }
    if let signal = summary.cancelled {
      let done = parts.isEmpty ? "nothing finished" : parts.joined(separator: ", ")
      lines.append("Apply interrupted by \(signal) \(took): \(done). Partial downloads are kept; the next apply resumes them.")
    } else if summary.isSuccess {
      lines.append("Apply complete: \(parts.isEmpty ? "nothing to do" : parts.joined(separator: ", ")) \(took).")
    } else {
      for failure in summary.failures { lines.append("error: \(failure.cause)") }
      for action in summary.deferred { lines.append("kept: \(action.subject) is not evicted yet, since a download failed; the next successful apply evicts it") }
      let done = parts.isEmpty ? "" : " Done: \(parts.joined(separator: ", "))."
      lines.append("Apply failed: \(summary.failures.count) of \(plan.changes.count) actions failed \(took).\(done) Run apply again to retry; what succeeded stays.")
    }
    return lines.joined(separator: "\n")
  }
}
