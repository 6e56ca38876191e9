import Foundation

/// Renders `reconcile status --tenant NAME`: the tenant's variants on this node, what it is
/// charged, and its limits with where each comes from.
public enum TenantStatusRenderer {
  /// The text: a header, one row per variant charged to the tenant, then one line per limit.
  ///
  /// `rows` is the node's inventory; `nodeVariants` what the node should hold; `served`
  /// whether the node's pool serves the tenant.
  public static func text(
    _ usage: TenantUsage, desired: DesiredState, rows: [InventoryRow], nodeVariants: Set<VariantID>, node: String, served: Bool
  ) -> String {
    var out = "reconcile status — tenant \(usage.tenant) · node \(node)\n\n"
    var facts = [usage.quota.tier.map { "tier \($0)" } ?? "no tier", usage.group.map { "group \($0)" } ?? "no group (view readable by root only)"]
    facts.append(served ? "served by this node" : "not served by this node's pool")
    out += facts.joined(separator: ", ") + "\n\n"

    let inventory = Dictionary(rows.map { ($0.variant, $0) }, uniquingKeysWith: { first, _ in first })
    let header = ["VARIANT", "FILES", "SIZE", "STATE"]
    let body = usage.variants.map { id -> [String] in
      let declared = desired.model(id.model)?.variant(id.variant)
      let row = inventory[id]
      let files = "\(row?.files ?? 0)/\(declared?.files.count ?? 0)"
      var state = nodeVariants.contains(id) && served ? (row?.state ?? .missing).description : "not placed here"
      if !usage.referenced.contains(id) { state += " (via requires:)" }
      return [id.description, files, ByteFormat.binary(declared?.uniqueBytes ?? 0), state]
    }
    if body.isEmpty {
      out += "It uses no models.\n"
    } else {
      out += TextTable.render([header] + body, rightAligned: [1, 2])
    }
    out += "\n"
    let lines = limitLines(usage)
    let width = lines.map(\.0.count).max() ?? 0
    for (name, text) in lines { out += "\(name.padded(width))  \(text)\n" }
    out += "\nCharged: every distinct file of its variants and what they require, once; files shared with other tenants are stored once but charged to each.\n"
    return out
  }

  /// `disk`, `models`, `concurrent downloads` and `bandwidth` with usage, limit and origin.
  static func limitLines(_ usage: TenantUsage) -> [(String, String)] {
    let quota = usage.quota
    func origin(_ field: QuotaField) -> String { quota.origin(of: field).map { " (\($0))" } ?? "" }
    func share(_ used: Int64, _ limit: Int64) -> String {
      limit > 0 ? "\(ByteFormat.fixed(Double(used) * 100 / Double(limit), 1))%" : "-"
    }
    let charged = "\(ByteFormat.binary(usage.bytes, precision: 2)) charged (\(usage.bytes) bytes)"
    let disk = quota.disk.map { "\(charged) of \(ByteFormat.binary($0.value, precision: 2)), \(share(usage.bytes, $0.value))\(origin(.disk))" } ?? "\(charged); no limit"
    let variants = "\(usage.models) variant\(usage.models == 1 ? "" : "s")"
    let models = quota.models.map { "\(variants) of \($0.value)\(origin(.models))" } ?? "\(variants); no limit"
    let downloads = quota.concurrentDownloads.map { "\($0.value) at once\(origin(.concurrentDownloads))" } ?? "no limit"
    let bandwidth = quota.bandwidth.map { "\(ByteFormat.binary($0.value))/s\(origin(.bandwidth))" } ?? "no limit"
    return [("disk", disk), ("models", models), ("concurrent downloads", downloads), ("bandwidth", bandwidth)]
  }
}
