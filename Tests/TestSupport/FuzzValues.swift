/// Mutations of single values: numbers at and past the edges of `Int64`, NUL characters, and
/// paths, sources and names that try to leave where they belong.
enum FuzzValues {
  /// Keys whose values are sizes, counts or durations.
  static let numericKeys: Set<String> = [
    "size", "vram", "disk", "replicas", "models", "concurrent_downloads", "bandwidth", "concurrency", "attempts",
    "backoff", "max_backoff", "gc_grace", "min_free", "node_ttl",
  ]

  /// Numbers near and past `Int64`, negative, fractional, in every unit, and not numbers at all.
  static let hugeNumbers = [
    "9223372036854775807", "9223372036854775808", "-9223372036854775808", "-9223372036854775809",
    "18446744073709551615", "18446744073709551616", "99999999999999999999999999999999", "-1", "-0", "0", "1",
    "4611686018427387904", "1152921504606846976", "1152921504606846977", "0x7fffffffffffffff", "0xffffffffffffffff",
    "0o777777777777777777777", "0b" + String(repeating: "1", count: 64), "1e308", "1e309", "-1e309", "1e-400", "1.0e+100",
    "nan", "inf", "-inf", ".inf", ".nan", "1_000", "9_223_372_036_854_775_807",
    "8EiB", "8 EiB", "9EiB", "16EiB", "7.999999999999999999EiB", "8388608TiB", "8388607TiB", "8388608.5TiB", "1e19B",
    "9223372036854775807B", "9223372036854775807KiB", "9223372036854775807TiB", "-1GiB", "1.5e20GiB", "0.0000001B",
    "1e-300TiB", "100%", "101%", "-1%", "100.0000000001%", "1e400%", "9223372036854775807%",
    "9223372036854775807s", "9223372036854775807d", "106751991167301d", "999999999999999999h", "1h" + String(repeating: "59m", count: 40),
    "-5m", "1e18s", "0s", "9223372036854775807MiB/s", "1TiB/s", "-1MiB/s",
  ]

  /// Sizes that fit one by one but overflow any sum of a few.
  static let summingSizes = ["4611686018427387904", "9223372036854775807", "4EiB", "7EiB", "8EiB", "1152921504606846976"]

  static func hugeNumber(_ bytes: inout [UInt8], toml: Bool, random: inout FuzzRandom) -> String {
    let spans = FuzzText.valueSpans(bytes).filter { numericKeys.contains($0.key) && !$0.range.isEmpty }
    guard !spans.isEmpty else {
      bytes += Array("\n\(toml ? "x = " : "x: ")\(random.pick(hugeNumbers))\n".utf8)
      return "appended a key with a huge number"
    }
    if random.oneIn(3) {
      // Every size of the file, so that sums pass 2^63.
      let value = random.pick(summingSizes)
      let sizes = spans.filter { $0.key == "size" || $0.key == "disk" || $0.key == "vram" }
      for span in sizes.reversed() { FuzzText.replace(&bytes, span.range, with: literal(value, toml: toml, random: &random)) }
      return "every size, disk and vram set to \(value)"
    }
    // Several distinct values, replaced from the end so the earlier ranges stay valid.
    let chosen = Set((0..<(1 + random.below(3))).map { _ in random.below(spans.count) })
    var done: [String] = []
    for index in chosen.sorted(by: >) {
      let value = random.pick(hugeNumbers)
      FuzzText.replace(&bytes, spans[index].range, with: literal(value, toml: toml, random: &random))
      done.append("\(spans[index].key) = \(value)")
    }
    return done.joined(separator: ", ")
  }

  /// A number as written in the file: TOML needs quotes around units, YAML may quote anything.
  static func literal(_ value: String, toml: Bool, random: inout FuzzRandom) -> String {
    let isPlainNumber = value.allSatisfy { $0.isNumber || $0 == "-" || $0 == "_" || $0 == "." || $0 == "e" || $0 == "+" }
    if toml { return isPlainNumber && !random.oneIn(4) ? value : FuzzText.quoted(value, toml: true) }
    return random.oneIn(5) ? FuzzText.quoted(value, toml: false) : value
  }

  static func nul(_ bytes: inout [UInt8], toml: Bool, random: inout FuzzRandom) -> String {
    let spans = FuzzText.valueSpans(bytes).filter { !$0.range.isEmpty }
    if !spans.isEmpty, random.oneIn(2) {
      // An escaped NUL: valid syntax, so it reaches the schema checks.
      let span = random.pick(spans)
      let text = String(decoding: bytes[span.range], as: UTF8.self).trimmingQuotes
      let split = random.below(text.count + 1)
      let value = String(text.prefix(split)) + "\u{0}" + String(text.dropFirst(split))
      FuzzText.replace(&bytes, span.range, with: FuzzText.quoted(value, toml: toml))
      return "escaped NUL in \(span.key)"
    }
    return FuzzMutator.insertAnywhere(&bytes, Array(repeating: 0, count: 1 + random.below(3)), what: "raw NUL", random: &random)
  }

  /// Paths and sources that climb out, start at `/`, double slashes, or are long or unusual.
  static let pathTricks: [String] = [
    "../etc/passwd", "../../../../../../etc/shadow", "/etc/passwd", "//etc/passwd", "a//b", "a/./b", "./a", "a/", "/",
    "", ".", "..", "...", "a/../../b", "a/b/../../..", "~/x", "C:\\Windows\\x", "a\\..\\..\\b", "%2e%2e/x", "a\tb", "a\nb",
    String(repeating: "a", count: 255), String(repeating: "a", count: 256), String(repeating: "b", count: 4097),
    Array(repeating: "d", count: 2000).joined(separator: "/"), "модель/файл.bin", "e\u{301}.bin", "\u{E9}.bin",
    "\u{202E}nib.exe", "🙂/🙂.bin", "a\u{200D}b", "\u{FEFF}a", " ", " a", "a ", "-rf", "$(touch x)", "*", "?", "a:b",
    "file:///../../etc", "file://..", "file://../..", "file:///", "file://", "hf://../..", "hf://a/b@../..", "hf://a",
    "s3://bucket/../..", "s3://", "https://", "https://example.invalid/" + String(repeating: "x/", count: 500),
    "http://[::1]:99999/", "http://a@b@c/", "ftp://x/", "file:" + String(repeating: "/", count: 300),
  ]

  /// Keys whose values are paths, sources or names.
  static let pathKeys: Set<String> = ["path", "name", "default_variant", "model", "group", "tier", "version"]

  static func pathTrick(_ bytes: inout [UInt8], toml: Bool, random: inout FuzzRandom) -> String {
    let trick = random.pick(pathTricks)
    // Sources are list items, not key values: find them by their scheme.
    let sourceStarts = ["file://", "hf://", "s3://", "https://"].flatMap { scheme in occurrences(of: Array(scheme.utf8), in: bytes) }
    let spans = FuzzText.valueSpans(bytes).filter { pathKeys.contains($0.key) && !$0.range.isEmpty }
    if !sourceStarts.isEmpty, spans.isEmpty || random.oneIn(3) {
      var start = random.pick(sourceStarts)
      if start > 0, bytes[start - 1] == UInt8(ascii: "\"") || bytes[start - 1] == UInt8(ascii: "'") { start -= 1 }
      let end = FuzzText.valueEnd(bytes, from: start)
      FuzzText.replace(&bytes, start..<end, with: FuzzText.quoted(trick, toml: toml))
      return "source \(trick.debugDescription)"
    }
    guard !spans.isEmpty else { return FuzzMutator.insertAnywhere(&bytes, Array(trick.utf8), what: "path text", random: &random) }
    let span = random.pick(spans)
    FuzzText.replace(&bytes, span.range, with: FuzzText.quoted(trick, toml: toml))
    return "\(span.key) \(trick.debugDescription)"
  }

  static func occurrences(of needle: [UInt8], in bytes: [UInt8]) -> [Int] {
    guard !needle.isEmpty, bytes.count >= needle.count else { return [] }
    return (0...(bytes.count - needle.count)).filter { bytes[$0..<($0 + needle.count)].elementsEqual(needle) }
  }
}

extension String {
  /// Without one pair of surrounding quotes.
  var trimmingQuotes: String {
    guard count >= 2, let first = first, first == last, first == "\"" || first == "'" else { return self }
    return String(dropFirst().dropLast())
  }
}
