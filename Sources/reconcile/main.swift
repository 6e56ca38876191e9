import ReconcileCLI

ReconcileCommand.main()
