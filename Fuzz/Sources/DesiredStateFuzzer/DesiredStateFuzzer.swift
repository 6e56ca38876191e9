import Foundation
import ReconcileCore

/// libFuzzer's entry point: one input is one desired-state file. A first byte `t` makes it
/// `fuzz.toml`, any other `fuzz.yaml`; the rest is the file's text (bytes that are not UTF-8
/// become U+FFFD, so that every input reaches a reader). The file goes through the YAML or
/// TOML reader and the loader's decoder and validator; a valid state is planned for two nodes
/// on an empty root and rendered both ways.
///
/// Beyond crashes, it stops on an error that does not say where: every error diagnostic must
/// have a position and print as one line per diagnostic and note.
@_cdecl("LLVMFuzzerTestOneInput")
public func desiredStateFuzzerTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
  let bytes = UnsafeBufferPointer(start: data, count: data == nil ? 0 : size)
  let isTOML = bytes.first == UInt8(ascii: "t")
  let text = String(decoding: bytes.dropFirst(), as: UTF8.self)
  let file = DesiredFile(path: isTOML ? "fuzz.toml" : "fuzz.yaml", text: text)
  do {
    let loaded = try DesiredStateLoader.load([file])
    let nodes = ["demo"] + loaded.state.pools.prefix(1).flatMap { $0.nodes.prefix(1).map(\.name) }
    for node in nodes {
      guard let plan = try? Planner.plan(loaded.state, ObservedState(), on: node, at: Date(timeIntervalSince1970: 1_800_000_000)) else { continue }
      _ = PlanRenderer.human(plan)
      _ = try? PlanRenderer.json(plan)
    }
  } catch {
    for diagnostic in error.diagnostics {
      guard diagnostic.location != nil else { fatalError("an error without a position: \(diagnostic.message)") }
      let lines = diagnostic.description.split(separator: "\n", omittingEmptySubsequences: false)
      guard lines.count == 1 + diagnostic.notes.count else { fatalError("a diagnostic that breaks its line: \(diagnostic.description.debugDescription)") }
    }
  }
  return 0
}

/// libFuzzer's driver, which `-sanitize=fuzzer` links in.
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
  _ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
  _ test: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt

/// The executable's entry point: SwiftPM links an executable target's `main` to
/// `<target>_main`, so the program starts here and hands its arguments to libFuzzer.
@_cdecl("DesiredStateFuzzer_main")
public func desiredStateFuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
  var count = argc
  var arguments = argv
  return LLVMFuzzerRunDriver(&count, &arguments, desiredStateFuzzerTestOneInput)
}
