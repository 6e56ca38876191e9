import ReconcileCLI

ReconcileCommand.start()
