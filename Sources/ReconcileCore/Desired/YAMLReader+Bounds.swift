import CYaml

extension YAMLReader {
  /// Checks the depth and size bounds on libyaml's events, before a tree is built.
  ///
  /// An alias costs a file nothing and its reader a whole copy: a chain of anchors each holding
  /// the one before (`a1: &a1 [*a0]`, …) nests a value 50,000 levels deep in a file of a few
  /// hundred kilobytes, and anything recursive over that tree (freeing it, comparing it) then
  /// overflows the stack. Walking the events here costs no recursion; each alias counts as the
  /// values and levels its anchor holds. Within the bounds too when libyaml stops on a syntax
  /// error first: the reader reports that one, with its context.
  static func bounds(of text: String, file: String, budget: Int) -> Bounds {
    var text = text
    return text.withUTF8 { buffer -> Bounds in
      // libyaml asserts that its input is not null, which an empty buffer's may be.
      guard let base = buffer.baseAddress, !buffer.isEmpty else { return .within(values: 0) }
      var parser = yaml_parser_t()
      guard yaml_parser_initialize(&parser) == 1 else { return .within(values: 0) }
      defer { yaml_parser_delete(&parser) }
      yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING)
      yaml_parser_set_input_string(&parser, base, buffer.count)
      var walk = BoundsWalk(file: file, budget: budget)
      while true {
        var event = yaml_event_t()
        guard yaml_parser_parse(&parser, &event) == 1 else { return .within(values: walk.values) }
        defer { yaml_event_delete(&event) }
        if event.type == YAML_STREAM_END_EVENT { return .within(values: walk.values) }
        if let violation = walk.visit(event) { return .violated(violation) }
      }
    }
  }

  /// What the walk over a file's events found.
  enum Bounds {
    /// The file holds `values` values, aliases expanded, within the bounds.
    case within(values: Int)
    /// The error at the value where a bound was passed.
    case violated(Diagnostic)
  }

  /// The running counts of one walk over a stream's events.
  struct BoundsWalk {
    /// A collection being read: what it counts so far.
    struct Frame {
      var anchor: String?
      /// `values` when the collection started, so its own size is the difference at its end.
      var valuesAtStart: Int
      /// Levels below it so far (0 without children).
      var height = 0
      var isMapping: Bool
      /// In a mapping, whether the next node is a key.
      var expectsKey: Bool
    }

    /// What an anchor stands for, for its aliases: how many values and how many levels.
    struct Anchored {
      var values: Int
      var height: Int
    }

    let file: String
    /// The values left to the desired state when this file started.
    let budget: Int
    var frames: [Frame] = []
    var anchors: [String: Anchored] = [:]
    /// Values read so far, aliases expanded; plain keys are not values, as in `convert`.
    var values = 0

    init(file: String, budget: Int) {
      self.file = file
      self.budget = budget
    }

    mutating func visit(_ event: yaml_event_t) -> Diagnostic? {
      let location = SourceLocation(file: file, line: Int(event.start_mark.line) + 1, column: Int(event.start_mark.column) + 1)
      let depth = frames.count
      let isKey = frames.last.map { $0.isMapping && $0.expectsKey } ?? false
      switch event.type {
      case YAML_DOCUMENT_START_EVENT:
        anchors = [:]
      case YAML_SCALAR_EVENT:
        if let violation = checkDepth(depth, at: location) { return violation }
        if !isKey { values += 1 }
        if let anchor = Self.name(event.data.scalar.anchor) { anchors[anchor] = Anchored(values: 1, height: 0) }
        finishChild(height: 0)
      case YAML_ALIAS_EVENT:
        let name = Self.name(event.data.alias.anchor)
        // An undefined alias is the reader's error to report.
        let anchored = name.flatMap { anchors[$0] } ?? Anchored(values: 1, height: 0)
        if depth + anchored.height > maximumDepth {
          return .error(at: location, "values are nested more than \(maximumDepth) levels deep, counting what alias '*\(name ?? "")' repeats; desired-state files need a handful")
        }
        values += anchored.values
        finishChild(height: anchored.height)
      case YAML_SEQUENCE_START_EVENT, YAML_MAPPING_START_EVENT:
        if let violation = checkDepth(depth, at: location) { return violation }
        values += 1
        let isMapping = event.type == YAML_MAPPING_START_EVENT
        let anchor = Self.name(isMapping ? event.data.mapping_start.anchor : event.data.sequence_start.anchor)
        frames.append(Frame(anchor: anchor, valuesAtStart: values - 1, isMapping: isMapping, expectsKey: true))
      case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT:
        guard let frame = frames.popLast() else { return nil }
        if let anchor = frame.anchor { anchors[anchor] = Anchored(values: values - frame.valuesAtStart, height: frame.height) }
        finishChild(height: frame.height)
      default:
        return nil
      }
      guard values <= budget else { return .error(at: location, tooManyValues) }
      return nil
    }

    func checkDepth(_ depth: Int, at location: SourceLocation) -> Diagnostic? {
      guard depth > maximumDepth else { return nil }
      return .error(at: location, "values are nested more than \(maximumDepth) levels deep; desired-state files need a handful")
    }

    /// A node of `height` levels ended: its parent is that much plus one deep, and a mapping
    /// turns from key to value or back.
    mutating func finishChild(height: Int) {
      guard let last = frames.indices.last else { return }
      frames[last].height = max(frames[last].height, height + 1)
      if frames[last].isMapping { frames[last].expectsKey.toggle() }
    }

    static func name(_ anchor: UnsafeMutablePointer<yaml_char_t>?) -> String? {
      anchor.map { String(cString: $0) }
    }
  }
}
