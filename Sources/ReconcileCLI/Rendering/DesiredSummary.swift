import ReconcileCore

/// Counts that describe a desired state in one line.
struct DesiredSummary: CustomStringConvertible {
  var state: DesiredState

  init(_ state: DesiredState) { self.state = state }

  var description: String {
    var variants = 0, files = 0
    for model in state.models {
      variants += model.variants.count
      for variant in model.variants { files += variant.files.count }
    }
    var unique: [Digest: Int64] = .init(minimumCapacity: files)
    for model in state.models {
      for variant in model.variants {
        for file in variant.files { unique[file.sha256] = file.size }
      }
    }
    let nodes = state.pools.reduce(0) { $0 + $1.nodes.count }
    return [
      count(state.models.count, "model"), count(variants, "variant"), count(files, "file"),
      ByteFormat.binary(unique.values.reduce(0, +)) + " unique", count(state.tenants.count, "tenant"),
      count(state.pools.count, "pool"), count(nodes, "node"),
    ].joined(separator: ", ")
  }

  func count(_ number: Int, _ noun: String) -> String { "\(number) \(noun)\(number == 1 ? "" : "s")" }
}
