/// Formats byte counts the way plans print them.
public enum ByteFormat {
  /// `41.2 GiB`, `512 B`, `3.00 TiB` with `precision` decimals above bytes.
  public static func binary(_ bytes: Int64, precision: Int = 1) -> String {
    let units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"]
    var value = Double(bytes)
    var index = 0
    while abs(value) >= 1024, index < units.count - 1 {
      value /= 1024
      index += 1
    }
    if index == 0 { return "\(bytes) B" }
    return "\(fixed(value, precision)) \(units[index])"
  }

  /// A decimal number with exactly `digits` fraction digits.
  public static func fixed(_ value: Double, _ digits: Int) -> String {
    var scale = 1.0
    for _ in 0..<digits { scale *= 10 }
    let scaled = Int64((abs(value) * scale).rounded())
    let whole = scaled / Int64(scale)
    let fraction = scaled % Int64(scale)
    let sign = value < 0 && scaled != 0 ? "-" : ""
    if digits == 0 { return "\(sign)\(whole)" }
    let fractionText = String(fraction)
    return "\(sign)\(whole)." + String(repeating: "0", count: digits - fractionText.count) + fractionText
  }
}
