/// The mutations of a fuzz case, each on the bytes of one desired-state file. They know just
/// enough of YAML and TOML to find `key: value` and `key = value` and put damage where a reader
/// or the schema decoder will look at it.
public enum FuzzMutator {
  /// Damages `file` with `mutation` and says how, for the case's report.
  public static func apply(_ mutation: FuzzMutation, to file: inout FuzzFile, random: inout FuzzRandom) -> String {
    let toml = file.name.hasSuffix(".toml")
    switch mutation {
    case .byteFlip: return flipBytes(&file.bytes, random: &random)
    case .truncation:
      let cut = random.below(file.bytes.count + 1)
      file.bytes.removeSubrange(cut...)
      return "cut at byte \(cut)"
    case .deepNesting: return FuzzStructures.nest(&file.bytes, toml: toml, random: &random)
    case .aliasBomb: return FuzzStructures.aliasBomb(&file.bytes, random: &random)
    case .hugeNumber: return FuzzValues.hugeNumber(&file.bytes, toml: toml, random: &random)
    case .invalidUTF8: return insertAnywhere(&file.bytes, random.pick(invalidSequences), what: "invalid UTF-8", random: &random)
    case .nulBytes: return FuzzValues.nul(&file.bytes, toml: toml, random: &random)
    case .byteOrderMark: return byteOrderMark(&file.bytes, random: &random)
    case .crlf: return lineEndings(&file.bytes, random: &random)
    case .pathTrick: return FuzzValues.pathTrick(&file.bytes, toml: toml, random: &random)
    case .fileNameTrick: return renameTrick(&file, random: &random)
    case .duplicateKey: return FuzzStructures.duplicate(&file.bytes, toml: toml, random: &random)
    case .typeConfusion: return FuzzStructures.confuseTypes(&file.bytes, toml: toml, random: &random)
    }
  }

  // MARK: Bytes

  /// Bytes that mean something to YAML or TOML, and a few that mean nothing.
  static let interestingBytes: [UInt8] = Array(":-[]{}\"',#&*!|>=. \n\t\\0129~%@`".utf8) + [0, 0x7F, 0xFF, 0xC3, 0x80, 0x0D]

  static func flipBytes(_ bytes: inout [UInt8], random: inout FuzzRandom) -> String {
    let count = 1 + random.below(8)
    var done: [String] = []
    for _ in 0..<count {
      let position = random.below(bytes.count + 1)
      switch random.below(4) {
      case 0 where position < bytes.count:
        let bit = UInt8(1) << UInt8(random.below(8))
        bytes[position] ^= bit
        done.append("xor \(bit) at \(position)")
      case 1 where position < bytes.count:
        let byte = random.pick(interestingBytes)
        bytes[position] = byte
        done.append("set \(byte) at \(position)")
      case 2 where position < bytes.count:
        bytes.remove(at: position)
        done.append("removed \(position)")
      default:
        let byte = random.pick(interestingBytes)
        bytes.insert(byte, at: position)
        done.append("inserted \(byte) at \(position)")
      }
    }
    return done.joined(separator: ", ")
  }

  /// Malformed UTF-8: a bad lead byte, a lone continuation, an overlong form, a surrogate, a code
  /// point past U+10FFFF, a sequence cut short, and Latin-1 text.
  static let invalidSequences: [[UInt8]] = [
    [0xFF], [0xFE], [0x80], [0xC3, 0x28], [0xC0, 0xAF], [0xE0, 0x80, 0xAF], [0xED, 0xA0, 0x80],
    [0xF4, 0x90, 0x80, 0x80], [0xF0, 0x9F, 0x98], [0xE9, 0x74, 0xE9], [0xC3],
  ]

  static func insertAnywhere(_ bytes: inout [UInt8], _ inserted: [UInt8], what: String, random: inout FuzzRandom) -> String {
    let spans = FuzzText.valueSpans(bytes)
    let position = !spans.isEmpty && random.oneIn(2)
      ? random.pick(spans).range.lowerBound + random.below(2)
      : random.below(bytes.count + 1)
    let clamped = min(position, bytes.count)
    bytes.insert(contentsOf: inserted, at: clamped)
    return "\(what) \(inserted) at \(clamped)"
  }

  static func byteOrderMark(_ bytes: inout [UInt8], random: inout FuzzRandom) -> String {
    let bom: [UInt8] = [0xEF, 0xBB, 0xBF]
    switch random.below(6) {
    case 0:
      bytes = bom + bytes
      return "UTF-8 BOM first"
    case 1:
      bytes = bom + bom + bytes
      return "two UTF-8 BOMs first"
    case 2:
      let lineStarts = [0] + bytes.indices.filter { bytes[$0] == 0x0A }.map { $0 + 1 }
      let position = min(random.pick(lineStarts), bytes.count)
      bytes.insert(contentsOf: bom, at: position)
      return "UTF-8 BOM at byte \(position)"
    case 3:
      // The whole file as UTF-16 little-endian with its BOM.
      let text = String(decoding: bytes, as: UTF8.self)
      bytes = [0xFF, 0xFE] + text.utf16.flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] }
      return "UTF-16LE with BOM"
    case 4:
      let text = String(decoding: bytes, as: UTF8.self)
      bytes = [0xFE, 0xFF] + text.utf16.flatMap { [UInt8($0 >> 8), UInt8($0 & 0xFF)] }
      return "UTF-16BE with BOM"
    default:
      bytes = [0xFF, 0xFE, 0x00, 0x00] + bytes
      return "UTF-32LE BOM before UTF-8"
    }
  }

  static func lineEndings(_ bytes: inout [UInt8], random: inout FuzzRandom) -> String {
    let mode = random.below(5)
    var result: [UInt8] = []
    result.reserveCapacity(bytes.count * 2)
    for byte in bytes {
      guard byte == 0x0A else {
        result.append(byte)
        continue
      }
      switch mode {
      case 0: result += [0x0D, 0x0A]
      case 1: result += random.oneIn(2) ? [0x0D, 0x0A] : [0x0A]
      case 2: result.append(0x0D)
      case 3: result += [0x0D, 0x0D, 0x0A]
      default: result += random.oneIn(3) ? [0x0D] : [0x0D, 0x0A]
      }
    }
    bytes = result
    if random.oneIn(3) { bytes.append(0x0D) }
    return ["CRLF", "CRLF on some lines", "CR only", "CR CR LF", "CR and CRLF mixed"][mode]
  }

  /// File names a desired-state directory may hold: long, unicode, looking like options or
  /// positions, hidden, or with the other syntax's extension.
  static func renameTrick(_ file: inout FuzzFile, random: inout FuzzRandom) -> String {
    let base = file.name.split(separator: ".").first.map(String.init) ?? "f"
    let ext = file.name.hasSuffix(".toml") ? ".toml" : ".yaml"
    let other = ext == ".toml" ? ".yaml" : ".toml"
    let names = [
      String(repeating: "a", count: 250) + ext, String(repeating: "é", count: 122) + ext,
      "модели" + ext, "🙂" + ext, "a b" + ext, "-h" + ext, "--help" + ext, "a\nb" + ext, "a:1:2" + ext,
      ".." + ext, "...." + ext, ext, base + ".yml", base + ext + other, base + ext + ".bak",
      base + "\u{202E}" + ext, "%s%n" + ext, "a\u{1B}[31m" + ext, base + " " + ext, "\u{301}" + ext,
    ]
    let name = random.pick(names)
    file.name = name
    return "renamed to \(name.debugDescription)"
  }
}
