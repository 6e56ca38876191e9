import ReconcileCore

/// A plan error reported at the places in the desired state it comes from: a tenant over its
/// quota at the tenant, a node whose `disk` cannot hold its share at the node, variants that
/// need a lock at their model. An unknown `--node` or a full filesystem has no place in a file
/// and stays `error: …`.
public struct PlacedPlanError: Error, Sendable, CustomStringConvertible, ReportedError {
  /// What the planner refused.
  public var error: PlanError
  /// Where the desired state declared what the error names.
  public var map: SourceMap

  /// Wraps `error` with the places of `map`.
  public init(_ error: PlanError, map: SourceMap) {
    self.error = error
    self.map = map
  }

  /// Runs `body`, turning a `PlanError` it throws into a `PlacedPlanError`.
  public static func placing<T>(_ map: SourceMap, _ body: () throws -> T) throws -> T {
    do {
      return try body()
    } catch let error as PlanError {
      throw PlacedPlanError(error, map: map)
    }
  }

  /// One line per problem: `file:line:col: error: …`, or `error: …` where no file is at fault.
  public var reportLines: [String] {
    Self.problems(error).map { Diagnostic.error(at: location(of: $0), $0.description).description }
  }

  public var description: String { reportLines.joined(separator: "\n") }

  /// The problems of `error`, each on its own.
  static func problems(_ error: PlanError) -> [PlanError] {
    if case .several(let errors) = error { return errors.flatMap(problems) }
    return [error]
  }

  /// Where the desired state declares what `problem` is about, when a file is at fault.
  func location(of problem: PlanError) -> SourceLocation? {
    switch problem {
    case .quotaExceeded(let tenant, _, _, _, _): map.tenants[tenant]
    case .insufficientCapacity(let node, _, _, _): map.nodes[node]
    case .unlocked(let variants, _): variants.first.flatMap { map.models[$0.model] }
    case .unknownNode, .insufficientSpace, .several: nil
    }
  }
}
