// swift-tools-version:6.2
// libFuzzer targets for reconcile's readers, kept out of the main package so that `swift build`
// and `make test` never build them. Run with `make fuzz` (see Docs/desired-state.md).
import PackageDescription

let package = Package(
  name: "reconcile-fuzz",
  dependencies: [.package(name: "reconcile", path: "..")],
  targets: [
    .executableTarget(
      name: "DesiredStateFuzzer",
      dependencies: [.product(name: "ReconcileCore", package: "reconcile")]
    ),
  ]
)
