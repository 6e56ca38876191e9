// swift-tools-version:6.0
import PackageDescription

let package = Package(
  name: "reconcile",
  platforms: [.macOS(.v13)],
  products: [
    .executable(name: "reconcile", targets: ["reconcile"]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
  ],
  targets: [
    .systemLibrary(name: "CSQLite", path: "Sources/CSQLite"),
    .systemLibrary(name: "COpenSSL", path: "Sources/COpenSSL"),
    .target(
      name: "ReconcileCore",
      dependencies: [.product(name: "Yams", package: "Yams")]
    ),
    .target(
      name: "ReconcileRuntime",
      dependencies: ["ReconcileCore", "CSQLite", "COpenSSL"]
    ),
    .target(
      name: "ReconcileCLI",
      dependencies: [
        "ReconcileCore", "ReconcileRuntime",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ]
    ),
    .executableTarget(name: "reconcile", dependencies: ["ReconcileCLI"]),
    .testTarget(name: "ReconcileCoreTests", dependencies: ["ReconcileCore"]),
    .testTarget(name: "ReconcileRuntimeTests", dependencies: ["ReconcileRuntime", "ReconcileCore"]),
    .testTarget(
      name: "ReconcileCLITests", dependencies: ["ReconcileCLI", "ReconcileCore", "ReconcileRuntime"],
      exclude: ["Snapshots"]
    ),
    .testTarget(name: "EndToEndTests", dependencies: ["ReconcileCore", "ReconcileRuntime"]),
  ]
)
