// swift-tools-version:6.2
import PackageDescription

let package = Package(
  name: "reconcile",
  products: [
    .executable(name: "reconcile", targets: ["reconcile"]),
    // For the libFuzzer targets in Fuzz/, a package of their own that depends on this one.
    .library(name: "ReconcileCore", targets: ["ReconcileCore"]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
    // The agent: HTTP server, ordered shutdown on signals, Prometheus exposition. Hummingbird's
    // default traits pull in swift-configuration, which the agent does not use.
    .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1", traits: []),
    .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
    .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
  ],
  targets: [
    .systemLibrary(name: "CSQLite", path: "Sources/CSQLite"),
    .systemLibrary(name: "COpenSSL", path: "Sources/COpenSSL"),
    .systemLibrary(name: "CCurl", path: "Sources/CCurl"),
    .systemLibrary(name: "CLibPQ", path: "Sources/CLibPQ"),
    .target(
      name: "ReconcileCore",
      dependencies: [.product(name: "Yams", package: "Yams")]
    ),
    .target(
      name: "ReconcileRuntime",
      dependencies: ["ReconcileCore", "CSQLite", "COpenSSL", "CCurl", "CLibPQ"]
    ),
    .target(
      name: "ReconcileAgent",
      dependencies: [
        "ReconcileCore", "ReconcileRuntime",
        .product(name: "Hummingbird", package: "hummingbird"),
        .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        .product(name: "Prometheus", package: "swift-prometheus"),
      ]
    ),
    .target(
      name: "ReconcileCLI",
      dependencies: [
        "ReconcileCore", "ReconcileRuntime", "ReconcileAgent",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ]
    ),
    .executableTarget(name: "reconcile", dependencies: ["ReconcileCLI"]),
    .target(name: "TestSupport", dependencies: ["ReconcileCore"], path: "Tests/TestSupport", exclude: ["test_http_server.py", "test_hub_server.py", "loopback_server.py"]),
    // The core stays pure; its tests also run a handful of plans through the real applier.
    .testTarget(name: "ReconcileCoreTests", dependencies: ["ReconcileCore", "ReconcileRuntime", "TestSupport"]),
    .testTarget(name: "ReconcileRuntimeTests", dependencies: ["ReconcileRuntime", "ReconcileCore", "TestSupport"]),
    .testTarget(
      name: "ReconcileCLITests", dependencies: ["ReconcileCLI", "ReconcileCore", "ReconcileRuntime"],
      exclude: ["Snapshots"]
    ),
    .testTarget(name: "EndToEndTests", dependencies: ["ReconcileCore", "ReconcileRuntime", "TestSupport"]),
    .testTarget(name: "ReconcileAgentTests", dependencies: ["ReconcileAgent", "ReconcileCore", "ReconcileRuntime", "TestSupport"]),
  ]
)
