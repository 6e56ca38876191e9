import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import ReconcileCore
import ReconcileRuntime

/// The agent's HTTP endpoints.
enum AgentRoutes {
  static func router(state: AgentState, token: String?) -> Router<BasicRequestContext> {
    let router = Router()
    // Liveness: the process answers. Never needs a token (kubelet probes send none).
    router.get("healthz") { _, _ in
      text("ok\n")
    }
    // Prometheus scrapes without credentials by convention; the metrics say nothing secret.
    router.get("metrics") { _, _ in
      let (metrics, _) = await offThread { state.metrics() }
      var headers = HTTPFields()
      headers[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
      return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: MetricsExposition.render(metrics))))
    }
    // Readiness: every desired variant verified and the last run succeeded.
    router.get("readyz") { request, _ in
      if let refused = refuse(request, token: token) { return refused }
      let (metrics, error) = await offThread { state.metrics() }
      if let error { return text("not ready: \(error)\n", status: .serviceUnavailable) }
      let problems = metrics.problems(maxAge: nil)
      guard problems.isEmpty else {
        return text(problems.map { "not ready: \($0)\n" }.joined(), status: .serviceUnavailable)
      }
      return text("ready\n")
    }
    // The status document, as `reconcile status --json` prints it.
    router.get("v1/status") { request, _ in
      if let refused = refuse(request, token: token) { return refused }
      do {
        let document = try await offThread { () throws -> String in
          let session = state.node
          let status = try session.tenantStatus()
          return try StatusRenderer.json(status.rows, node: session.node, tenants: status.served)
        }
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: document)))
      } catch {
        return text("cannot read the node's status: \(error)\n", status: .internalServerError)
      }
    }
    return router
  }

  /// A 401 unless the request carries `Authorization: Bearer <token>` (when a token is set).
  static func refuse(_ request: Request, token: String?) -> Response? {
    guard let token else { return nil }
    let given = request.headers[.authorization] ?? ""
    let prefix = "Bearer "
    guard given.hasPrefix(prefix), constantTimeEqual(Array(given.utf8.dropFirst(prefix.utf8.count)), Array(token.utf8)) else {
      var headers = HTTPFields()
      headers[.wwwAuthenticate] = "Bearer realm=\"reconcile\""
      headers[.contentType] = "text/plain; charset=utf-8"
      return Response(status: .unauthorized, headers: headers, body: .init(byteBuffer: ByteBuffer(string: "unauthorized: send 'Authorization: Bearer <token>' with the agent's token\n")))
    }
    return nil
  }

  /// Whether two byte strings are equal, in time that depends only on their lengths.
  static func constantTimeEqual(_ lhs: [UInt8], _ rhs: [UInt8]) -> Bool {
    var difference = UInt8(lhs.count == rhs.count ? 0 : 1)
    let count = max(lhs.count, rhs.count)
    for index in 0..<count {
      let left = index < lhs.count ? lhs[index] : 0
      let right = index < rhs.count ? rhs[index] : 0
      difference |= left ^ right
    }
    return difference == 0
  }

  static func text(_ body: String, status: HTTPResponse.Status = .ok) -> Response {
    var headers = HTTPFields()
    headers[.contentType] = "text/plain; charset=utf-8"
    return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: body)))
  }

  /// Runs blocking file-system work on a thread of its own, off the server's event loops.
  static func offThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
      DispatchQueue.global().async {
        continuation.resume(with: Result { try body() })
      }
    }
  }

  static func offThread<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
    await withCheckedContinuation { continuation in
      DispatchQueue.global().async { continuation.resume(returning: body()) }
    }
  }
}
