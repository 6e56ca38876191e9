/// How a tenant's directory under `tenants/` is laid out.
public enum TenantViewLayout {
  /// The directory name of each variant in one tenant's view: the model's name, or
  /// `name@version` when the tenant uses several versions of that model, or
  /// `name@version:variant` when it uses several variants of one version.
  public static func entries(_ variants: [VariantID]) -> [String: VariantID] {
    let byName = Dictionary(grouping: variants, by: \.model.name)
    var entries: [String: VariantID] = [:]
    for (name, ids) in byName {
      for id in ids {
        if ids.count == 1 {
          entries[name] = id
        } else if ids.filter({ $0.model == id.model }).count == 1 {
          entries[id.model.description] = id
        } else {
          entries[id.description] = id
        }
      }
    }
    return entries
  }

  /// The mode of a tenant's directories: 0750 for its group, 0700 (the applier's own group)
  /// without one.
  public static func mode(group: String?) -> UInt32 { group == nil ? 0o700 : 0o750 }
}
