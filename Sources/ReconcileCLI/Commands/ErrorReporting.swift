import ArgumentParser
import Foundation
import ReconcileCore
import ReconcileRuntime

/// Prints errors the way reconcile reports them and turns them into exit code 1.
enum ErrorReporting {
  /// Runs `body`; any error is written to standard error in reconcile's format, then exit 1.
  static func run<T>(_ body: () throws -> T) throws -> T {
    do {
      return try body()
    } catch let error as ExitCode {
      throw error
    } catch let error as DiagnosticsError {
      let errors = error.diagnostics.filter { $0.severity == .error }.count
      report(error.description.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        + ["\(errors) error\(errors == 1 ? "" : "s") in the desired state; nothing was changed."])
      throw ExitCode.failure
    } catch let error as ReportedError {
      report(error.reportLines)
      throw ExitCode.failure
    } catch {
      report(["error: \(error)"])
      throw ExitCode.failure
    }
  }

  /// Error lines as they are in text; one `error` object each under `--log-format json`.
  static func report(_ lines: [String]) {
    if Log.isJSON {
      Log.errors(lines)
    } else {
      for line in lines { StandardError.write(line + "\n") }
    }
  }
}

/// Writes to standard error.
enum StandardError {
  static func write(_ text: String) {
    FileHandle.standardError.write(Data(text.utf8))
  }
}

/// Whether standard output is a terminal that wants color.
enum Terminal {
  static var stdoutWantsColor: Bool {
    isatty(STDOUT_FILENO) == 1 && ProcessInfo.processInfo.environment["NO_COLOR"] == nil
      && ProcessInfo.processInfo.environment["TERM"] != "dumb"
  }
}
