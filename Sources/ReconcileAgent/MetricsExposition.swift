import Foundation
import Prometheus
import ReconcileCore
import ReconcileRuntime

/// This node's metrics in the Prometheus text exposition format, the same for the agent's
/// `/metrics` and a one-shot command's `--metrics-file` (node_exporter's textfile collector).
/// Every name is documented in Docs/operations.md.
public enum MetricsExposition {
  /// The exposition of `metrics`.
  public static func render(_ metrics: NodeMetrics, version: String = reconcileVersion) -> String {
    let registry = PrometheusCollectorRegistry()
    registry.makeGauge(name: "reconcile_info", labels: [("node", metrics.node), ("version", version)], help: "Always 1; the node name and reconcile version as labels.").set(Double(1))

    // Runs.
    let stats = metrics.stats
    if let last = stats.lastRun {
      registry.makeGauge(name: "reconcile_last_run_start_timestamp_seconds", help: "When the last reconcile run started (unix seconds).").set(last.startedAt.timeIntervalSince1970)
      registry.makeGauge(name: "reconcile_last_run_end_timestamp_seconds", help: "When the last reconcile run ended (unix seconds).").set(last.finishedAt.timeIntervalSince1970)
      registry.makeGauge(name: "reconcile_last_run_duration_seconds", help: "How long the last reconcile run took.").set(last.seconds)
      registry.makeGauge(name: "reconcile_last_run_success", help: "1 when the last reconcile run succeeded, 0 when it failed or was interrupted.").set(Double(last.outcome == .ok ? 1 : 0))
    }
    if let success = stats.lastSuccess {
      registry.makeGauge(name: "reconcile_last_success_timestamp_seconds", help: "When the last successful reconcile run ended (unix seconds).").set(success.timeIntervalSince1970)
    }
    for outcome in RunOutcome.allCases {
      registry.makeCounter(name: "reconcile_runs_total", labels: [("outcome", outcome.rawValue)], help: "Reconcile runs by outcome (ok, failed, interrupted).")
        .increment(by: stats.runs[outcome] ?? 0)
    }

    // Transfers and verification.
    for scheme in Set(stats.downloadedBytes.keys).union(stats.downloadedFiles.keys).sorted() {
      registry.makeCounter(name: "reconcile_downloaded_bytes_total", labels: [("scheme", scheme)], help: "Bytes downloaded and verified, by source scheme.")
        .increment(by: stats.downloadedBytes[scheme] ?? 0)
      registry.makeCounter(name: "reconcile_downloaded_files_total", labels: [("scheme", scheme)], help: "Files downloaded and verified, by source scheme.")
        .increment(by: stats.downloadedFiles[scheme] ?? 0)
    }
    registry.makeCounter(name: "reconcile_verified_files_total", help: "Files already on disk that were hashed and matched their SHA-256.").increment(by: stats.verifiedFiles)
    registry.makeCounter(name: "reconcile_verified_bytes_total", help: "Bytes hashed to verify files already on disk.").increment(by: stats.verifiedBytes)
    registry.makeCounter(name: "reconcile_verify_mismatches_total", help: "Files whose content did not match their SHA-256 (moved to quarantine).").increment(by: stats.mismatches)
    for (key, count) in stats.sourceFailures.sorted(by: { $0.key < $1.key }) {
      registry.makeCounter(name: "reconcile_source_failures_total", labels: [("scheme", key.scheme), ("cause", key.cause)], help: "Failed attempts to fetch from a source, by scheme and cause.")
        .increment(by: count)
    }
    for (scheme, count) in stats.retries.sorted(by: { $0.key < $1.key }) {
      registry.makeCounter(name: "reconcile_retries_total", labels: [("scheme", scheme)], help: "Transfers tried again after a failure, by source scheme.").increment(by: count)
    }
    registry.makeCounter(name: "reconcile_evictions_total", help: "Variants evicted from this node.").increment(by: stats.evictions)
    registry.makeCounter(name: "reconcile_freed_bytes_total", help: "Bytes freed by evictions.").increment(by: stats.freedBytes)

    // Variants.
    for state in InventoryState.allCases {
      registry.makeGauge(name: "reconcile_variants", labels: [("state", state.metricLabel)], help: "Variants on this node by state: verified, incomplete, unverified, missing and waiting (for what it requires) are desired here; unwanted are on disk but not desired.")
        .set(Int64(metrics.variants[state] ?? 0))
    }

    // Disk.
    if let disk = metrics.disk {
      registry.makeGauge(name: "reconcile_disk_capacity_bytes", help: "Size of the filesystem holding the node root.").set(disk.capacity)
      registry.makeGauge(name: "reconcile_disk_free_bytes", help: "Free bytes on the filesystem holding the node root.").set(disk.free)
      registry.makeGauge(name: "reconcile_disk_used_bytes", help: "Bytes of the node's model store.").set(disk.used)
      registry.makeGauge(name: "reconcile_disk_unwanted_bytes", help: "Bytes of variants no longer desired here, kept until gc_grace passes or the disk needs the space.").set(disk.unwanted)
      registry.makeGauge(name: "reconcile_disk_min_free_bytes", help: "Free space policy.min_free asks for.").set(disk.minFree)
    }

    // Tenants.
    for tenant in metrics.tenants {
      registry.makeGauge(name: "reconcile_tenant_used_bytes", labels: [("tenant", tenant.name)], help: "Bytes of a served tenant's variants.").set(tenant.used)
      registry.makeGauge(name: "reconcile_tenant_models", labels: [("tenant", tenant.name)], help: "Variants a served tenant references.").set(Int64(tenant.models))
      if let quota = tenant.quota {
        registry.makeGauge(name: "reconcile_tenant_quota_bytes", labels: [("tenant", tenant.name)], help: "A served tenant's disk quota.").set(quota)
      }
      if let quota = tenant.modelQuota {
        registry.makeGauge(name: "reconcile_tenant_model_quota", labels: [("tenant", tenant.name)], help: "A served tenant's quota of variants.").set(quota)
      }
    }

    // Fleet.
    if let age = metrics.heartbeatAge {
      registry.makeGauge(name: "reconcile_fleet_heartbeat_age_seconds", help: "Seconds since this node last reported its heartbeat to the fleet registry.").set(age)
    }
    registry.makeGauge(name: "reconcile_ready", help: "1 when every desired variant is verified and the last run succeeded (what /readyz answers).")
      .set(Double(metrics.problems(maxAge: nil).isEmpty ? 1 : 0))
    return registry.emitToString()
  }
}

extension InventoryState {
  /// `verified` for `ok`; the state's name otherwise.
  public var metricLabel: String { self == .ok ? "verified" : rawValue }
}
