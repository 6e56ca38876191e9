import Foundation
import ReconcileAgent
import ReconcileRuntime

/// `--metrics-file`: a one-shot command's metrics for node_exporter's textfile collector.
enum MetricsFileWriter {
  /// Writes the node's metrics to `path`; a failure is a warning, never the command's error.
  static func write(session: Session, to path: String) {
    let (metrics, _) = session.metricsOrStats()
    do {
      try MetricsFile.write(MetricsExposition.render(metrics), to: path)
    } catch {
      Log.line(level: "warning", event: "warning", message: "\(error)")
    }
  }
}
