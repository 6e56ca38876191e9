import Foundation

/// Turns a plan into text: terraform-like lines for people, or a stable JSON document.
public enum PlanRenderer {
  /// The human form: a header, one line per action and model variant, a summary.
  public static func human(_ plan: Plan, color: Bool = false) -> String {
    let style = TextStyle(color: color)
    var out = header(plan) + "\n"
    if plan.leaving == true {
      out += "  node \(plan.node) is leaving the fleet (no pool declares it): it evicts everything once copies exist elsewhere, then deregisters\n"
    }
    if plan.fleetUnavailable == true {
      if let at = plan.fleetSnapshotAt {
        out += "  fleet registry unreachable: placed on the snapshot cached \(Durations.ago(at, now: plan.createdAt)) ago; nothing placed elsewhere is evicted\n"
      } else {
        out += "  fleet registry unreachable: every declared node is taken as ready, and nothing placed elsewhere is evicted\n"
      }
    }
    out += "\n"
    let groups = PlanGroup.groups(of: plan)
    let rows = groups.map { row(for: $0, plan: plan) } + plan.kept.map { keptRow($0, now: plan.createdAt) }
    if !rows.isEmpty {
      // The action column is as wide as the longest action, so every plan lines up the same way.
      let widths = [Action.allCases.map(\.rawValue.count).max() ?? 8] + (1..<4).map { column in rows.map { $0.cells[column].count }.max() ?? 0 }
      for row in rows {
        let cells = row.cells
        let symbol = style.paint(row.symbol, row.tint)
        var line = "  \(symbol) \(cells[0].padded(widths[0]))  \(cells[1].padded(widths[1]))"
        if widths[2] > 0 { line += "  " + cells[2].padded(widths[2]) }
        if widths[3] > 0 { line += "  " + cells[3].leftPadded(widths[3]) }
        if !row.trailer.isEmpty { line += "  \(row.trailer)" }
        out += line.trimmingTrailingSpaces + "\n"
      }
      out += "\n"
    }
    out += groups.isEmpty ? "No changes.\n" : summary(groups) + "\n"
    out += diskLine(plan) + "\n"
    return out
  }

  /// The JSON form: the plan document with `formatVersion`, keys sorted, ISO 8601 dates.
  public static func json(_ plan: Plan) throws -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    encoder.dateEncodingStrategy = .iso8601
    return String(decoding: try encoder.encode(plan), as: UTF8.self) + "\n"
  }

  /// Reads a plan saved with `-o`.
  public static func decode(_ data: Data) throws -> Plan {
    let decoder = JSONDecoder()
    decoder.dateDecodingStrategy = .iso8601
    return try decoder.decode(Plan.self, from: data)
  }

  static func header(_ plan: Plan) -> String {
    var text = "reconcile plan — node \(plan.node)"
    if let pool = plan.pool { text += " (pool \(pool))" }
    if !plan.desired.path.isEmpty {
      text += " · \(plan.desired.path)"
      if let commit = plan.desired.commit { text += " at \(commit.prefix(7))" }
    }
    return text
  }

  struct Row {
    var symbol: String
    var tint: TextStyle.Tint
    var cells: [String]
    var trailer: String
  }

  static func row(for group: PlanGroup, plan: Plan) -> Row {
    let files = group.files == 1 ? "1 file" : "\(group.files) files"
    let size = group.bytes > 0 || group.action != .link ? ByteFormat.binary(group.bytes) : ""
    let reason = "(\(group.reason.summary(now: plan.createdAt)))"
    switch group.action {
    case .download:
      // A password in a source's URL stays out of the plan a terminal or CI log shows.
      var trailer = group.sources.first.map { "from \($0.redacted)" } ?? ""
      if group.sources.count > 1 { trailer += " (+\(group.sources.count - 1) fallback\(group.sources.count > 2 ? "s" : ""))" }
      if case .missing = group.reason {} else { trailer += " \(reason)" }
      if group.shared > 0 { trailer += " (\(group.shared) shared with another variant, fetched once)" }
      return Row(symbol: "+", tint: .green, cells: ["download", group.label, files, size], trailer: trailer.trimmingSpaces.description)
    case .verify:
      let shared = group.shared > 0 ? " (\(group.shared) shared with another variant, hashed once)" : ""
      return Row(symbol: "~", tint: .yellow, cells: ["verify", group.label, files, size], trailer: reason + shared)
    case .link:
      return Row(symbol: "~", tint: .yellow, cells: ["link", group.label, files, ""], trailer: reason)
    case .publish:
      let target = group.publication.map { "to the Hugging Face cache as \($0.repo)@\($0.commit.prefix(7)) " } ?? ""
      return Row(symbol: "+", tint: .green, cells: ["publish", group.label, files, ""], trailer: target + reason)
    case .evict:
      let trailer = group.isWholeVariant ? reason : "(\(group.files == 1 ? "file" : "files") no longer listed in its variant)"
      return Row(symbol: "-", tint: .red, cells: ["evict", group.label, files, size], trailer: trailer)
    case .unlink:
      return Row(symbol: "-", tint: .red, cells: ["unlink", group.label, "", ""], trailer: reason)
    }
  }

  static func keptRow(_ kept: KeptVariant, now: Date) -> Row {
    var trailer = "(\(kept.reason.summary(now: now))"
    if let after = kept.evictableAfter { trailer += "; evictable in \(Durations.compact(Int64(after.timeIntervalSince(now))))" }
    return Row(symbol: "=", tint: .plain, cells: ["keep", kept.variant.description, "", kept.bytes > 0 ? ByteFormat.binary(kept.bytes) : ""], trailer: trailer + ")")
  }

  /// `Plan: 3 to download (1.2 GiB), 1 to evict (frees 80 GiB).`, or `No changes.`: the plan in one line.
  public static func oneLine(_ plan: Plan) -> String {
    plan.hasChanges ? summary(PlanGroup.groups(of: plan)) : "No changes."
  }

  static func summary(_ groups: [PlanGroup]) -> String {
    var parts: [String] = []
    for action in Action.allCases {
      let matching = groups.filter { $0.action == action }
      guard !matching.isEmpty else { continue }
      let bytes = matching.reduce(Int64(0)) { $0 + $1.bytes }
      switch action {
      case .download: parts.append("\(matching.count) to download (\(ByteFormat.binary(bytes)))")
      case .verify: parts.append("\(matching.count) to verify (\(ByteFormat.binary(bytes)))")
      case .link: parts.append("\(matching.count) to link")
      case .publish: parts.append("\(matching.count) to publish")
      case .evict: parts.append("\(matching.count) to evict (frees \(ByteFormat.binary(bytes)))")
      case .unlink: parts.append("\(matching.count) to unlink")
      }
    }
    return "Plan: " + parts.joined(separator: ", ") + "."
  }

  static func diskLine(_ plan: Plan) -> String {
    let used = ByteFormat.binary(plan.disk.usedAfter, precision: 2)
    guard let capacity = plan.disk.capacity else { return "Disk after apply: \(used) used." }
    return "Disk after apply: \(used) used of \(ByteFormat.binary(capacity, precision: 2)) (min free \(plan.disk.minFreeSetting) kept)."
  }
}

/// Changes of one action on one model variant: a line of the human plan.
struct PlanGroup {
  var action: Action
  var variant: VariantID
  /// What the line names: the variant, a tenant's view of it, or the path an unlink removes.
  var label: String
  /// The snapshot a publication writes.
  var publication: CachePublication?
  /// The tenant whose view the line changes, if any: tenants' lines follow the variants' own.
  var tenant: String?
  var isWholeVariant: Bool
  var files: Int
  var bytes: Int64
  var reason: Reason
  var sources: [SourceURL]
  /// Files whose blob another line of the plan fetches or verifies.
  var shared = 0

  /// One group per action and variant, in plan order. A link to a blob that another change
  /// downloads or verifies is shown with that action, since it completes with it.
  static func groups(of plan: Plan) -> [PlanGroup] {
    var fetching: [Digest: Change] = [:]
    for change in plan.changes where change.action == .download || change.action == .verify {
      if let digest = change.digest { fetching[digest] = change }
    }
    var groups: [PlanGroup] = []
    var index: [String: Int] = [:]
    for change in plan.changes {
      var action = change.action
      var sources = change.sources
      var isShared = false
      if action == .link, let digest = change.digest, let fetch = fetching[digest] {
        action = fetch.action
        sources = fetch.sources
        isShared = true
      }
      let whole = change.subject.path == nil
      let label = change.subject.path == nil || change.subject.tenant != nil ? change.subject.description : change.subject.variant.description
      let key = "\(action.rawValue) \(label) \(whole)"
      if let position = index[key] {
        groups[position].files += change.files
        groups[position].bytes += change.bytes
        groups[position].shared += isShared ? 1 : 0
        if case .missing = groups[position].reason, !isShared { groups[position].reason = change.reason }
      } else {
        index[key] = groups.count
        var group = PlanGroup(
          action: action, variant: change.subject.variant, label: label, publication: change.publication, tenant: change.subject.tenant, isWholeVariant: whole,
          files: change.files, bytes: change.bytes, reason: isShared ? (action == .download ? .missing : change.reason) : change.reason,
          sources: sources)
        group.shared = isShared ? 1 : 0
        groups.append(group)
      }
    }
    return groups.sorted { ($0.action, $0.tenant ?? "", $0.variant, $0.label) < ($1.action, $1.tenant ?? "", $1.variant, $1.label) }
  }
}

/// ANSI colors, used only when writing to a terminal.
struct TextStyle {
  enum Tint: String {
    case plain = "", green = "\u{1B}[32m", yellow = "\u{1B}[33m", red = "\u{1B}[31m", bold = "\u{1B}[1m"
  }
  var color: Bool

  func paint(_ text: String, _ tint: Tint) -> String {
    guard color, tint != .plain else { return text }
    return tint.rawValue + text + "\u{1B}[0m"
  }
}

extension String {
  func padded(_ width: Int) -> String { count >= width ? self : self + String(repeating: " ", count: width - count) }
  func leftPadded(_ width: Int) -> String { count >= width ? self : String(repeating: " ", count: width - count) + self }
  var trimmingTrailingSpaces: String {
    var text = self
    while text.last == " " { text.removeLast() }
    return text
  }
}
