import Foundation
import ReconcileCore

#if canImport(Glibc)
  import Glibc
#endif

/// What `reconcile status` shows about tenants: their usage and limits, and the node's rows.
public struct TenantStatus: Sendable {
  /// The desired state read.
  public var desired: DesiredState
  /// Every variant the node holds or should hold.
  public var rows: [InventoryRow]
  /// The usage of every tenant this node's pool serves (every tenant without pools), in name order.
  public var served: [TenantUsage]
  /// The usage of every declared tenant, in name order.
  public var all: [TenantUsage]
  /// The variants this node should hold.
  public var nodeVariants: Set<VariantID>
}

extension Session {
  /// Fails when a tenant this node serves names a unix group that does not exist here: its
  /// view could not be made. The planner is pure, so the session asks the system.
  public func checkTenantGroups(_ desired: DesiredState) throws {
    // The tenants served depend on the node's pool alone, not on placement: no need to place.
    let pool = desired.pools.first { $0.nodes.contains { $0.name == node } }
    // A node no pool declares serves no tenant; the plan says whether it is leaving or unknown.
    guard pool != nil || desired.pools.isEmpty else { return }
    _ = try TenantViews.groupIDs(for: NodeTarget.tenants(servedBy: pool, in: desired))
  }

  /// Whether an apply ran on this root here, so this machine is the node the plan is for and
  /// its groups are the node's. A plan made elsewhere (CI, a laptop) cannot know them.
  public var holdsRoot: Bool { FileStatus.of(root.state)?.kind == .directory }

  /// Fails when the store exists but this user cannot read it (it is root's alone while the
  /// node serves tenants): a scan that silently saw nothing would plan to download everything.
  public func checkStoreReadable() throws {
    for directory in [root.path + "/blobs", root.models, root.state] where FileStatus.of(directory) != nil {
      guard access(directory, R_OK | X_OK) == 0 else {
        let cause = String(cString: strerror(errno))
        throw StoreAccessError(description: "cannot read \(directory): \(cause); while the node serves tenants its store is readable by root only, so run this as root")
      }
    }
  }

  /// The inventory with the tenants' usage, for `status`.
  public func tenantStatus() throws -> TenantStatus {
    let loaded = try loadDesired()
    let target = try NodeTarget.resolve(loaded.state, node: node)
    let rows = Inventory.rows(loaded.state, try observe(loaded.state), target: target)
    let all = TenantUsage.compute(loaded.state)
    let served = Set(target.servedTenants(in: loaded.state).map(\.name))
    return TenantStatus(desired: loaded.state, rows: rows, served: all.filter { served.contains($0.tenant) }, all: all, nodeVariants: target.variants)
  }
}

/// The node's store exists but cannot be read by this user.
public struct StoreAccessError: Error, Sendable, CustomStringConvertible {
  /// Which directory, why, and what to do.
  public var description: String
}
