import Foundation

/// Renders `reconcile status`: an aligned table, or JSON.
public enum StatusRenderer {
  /// The table: model, version, variant, files, size, verified, last used, state.
  public static func table(_ rows: [InventoryRow], node: String, now: Date) -> String {
    guard !rows.isEmpty else { return "reconcile status — node \(node)\n\nNo models on this node and none desired.\n" }
    let header = ["MODEL", "VERSION", "VARIANT", "FILES", "SIZE", "VERIFIED", "LAST USED", "STATE"]
    let body = rows.map { row -> [String] in
      let files = row.declaredFiles.map { "\(row.files)/\($0)" } ?? "\(row.files)"
      let verified = row.files == 0 ? "-" : (row.verifiedFiles == row.files ? "yes" : "\(row.verifiedFiles)/\(row.files)")
      let used = row.lastUsed.map { Durations.ago($0, now: now) + " ago" } ?? "never"
      return [row.variant.model.name, row.variant.model.version, row.variant.variant, files, ByteFormat.binary(row.bytes), verified, used, row.stateText]
    }
    var out = "reconcile status — node \(node)\n\n"
    out += TextTable.render([header] + body, rightAligned: [3, 4])
    let total = rows.reduce(Int64(0)) { $0 + $1.bytes }
    let ok = rows.filter { $0.state == .ok }.count
    let wanted = rows.filter(\.desired).count
    out += "\n\(rows.count) variant\(rows.count == 1 ? "" : "s"), \(ByteFormat.binary(total)) in views; \(ok) of \(wanted) desired variant\(wanted == 1 ? "" : "s") complete and verified.\n"
    return out
  }

  /// The JSON document: `formatVersion`, node, rows, and the usage and limits of the tenants
  /// the node serves.
  public static func json(_ rows: [InventoryRow], node: String, tenants: [TenantUsage] = []) throws -> String {
    struct Document: Encodable {
      var formatVersion = 1
      var node: String
      var variants: [InventoryRow]
      var tenants: [TenantUsage]
    }
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    encoder.dateEncodingStrategy = .iso8601
    return String(decoding: try encoder.encode(Document(node: node, variants: rows, tenants: tenants)), as: UTF8.self) + "\n"
  }
}

extension InventoryRow {
  /// `ok`, `missing` …; `waiting for beta@2.1, gamma@1:fp16` for a variant waiting for what it requires.
  public var stateText: String {
    guard state == .waiting, let waitingFor, !waitingFor.isEmpty else { return state.description }
    return "waiting for " + waitingFor.map(\.description).joined(separator: ", ")
  }
}
