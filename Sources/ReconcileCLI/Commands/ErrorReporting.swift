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
      StandardError.write(error.description + "\n")
      StandardError.write("\(errors) error\(errors == 1 ? "" : "s") in the desired state; nothing was changed.\n")
      throw ExitCode.failure
    } catch let error as ReportedError {
      for line in error.reportLines { StandardError.write(line + "\n") }
      throw ExitCode.failure
    } catch {
      StandardError.write("error: \(error)\n")
      throw ExitCode.failure
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
