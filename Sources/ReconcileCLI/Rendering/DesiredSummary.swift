import ReconcileCore

/// Counts that describe a desired state in one line.
struct DesiredSummary: CustomStringConvertible {
  var state: DesiredState

  init(_ state: DesiredState) { self.state = state }

  var description: String {
    let variants = state.models.flatMap(\.variants)
    let files = variants.flatMap(\.files)
    var unique: [Digest: Int64] = [:]
    for file in files { unique[file.sha256] = file.size }
    let nodes = state.pools.flatMap(\.nodes).count
    return [
      count(state.models.count, "model"), count(variants.count, "variant"), count(files.count, "file"),
      ByteFormat.binary(unique.values.reduce(0, +)) + " unique", count(state.tenants.count, "tenant"),
      count(state.pools.count, "pool"), count(nodes, "node"),
    ].joined(separator: ", ")
  }

  func count(_ number: Int, _ noun: String) -> String { "\(number) \(noun)\(number == 1 ? "" : "s")" }
}
