import Foundation
import Testing
@testable import ReconcileCore

@Test func zzProbeScratch() throws {
  guard let dir = ProcessInfo.processInfo.environment["PROBE_DIR"] else { return }
  let fm = FileManager.default
  for sub in try fm.contentsOfDirectory(atPath: dir).sorted() {
    let subPath = dir + "/" + sub
    let names = try fm.contentsOfDirectory(atPath: subPath).sorted()
    let files = try names.map { DesiredFile(path: $0, text: try String(contentsOfFile: subPath + "/" + $0, encoding: .utf8)) }
    print("=== \(sub)")
    do {
      let loaded = try DesiredStateLoader.load(files)
      print("OK \(loaded.state)")
    } catch {
      print(error.description)
    }
  }
}
