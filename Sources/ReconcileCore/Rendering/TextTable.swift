/// Plain-text tables for people: columns as wide as their widest cell, two spaces apart.
enum TextTable {
  /// One line per row (the header first, when the caller puts it there); the columns in
  /// `rightAligned` are padded on the left, trailing spaces trimmed.
  static func render(_ rows: [[String]], rightAligned: Set<Int> = []) -> String {
    let columns = rows.map(\.count).max() ?? 0
    let widths = (0..<columns).map { column in rows.map { column < $0.count ? $0[column].count : 0 }.max() ?? 0 }
    return rows.map { row in
      row.enumerated().map { index, cell in rightAligned.contains(index) ? cell.leftPadded(widths[index]) : cell.padded(widths[index]) }
        .joined(separator: "  ").trimmingTrailingSpaces + "\n"
    }.joined()
  }
}
