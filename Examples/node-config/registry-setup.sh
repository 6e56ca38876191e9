#!/usr/bin/env bash
# Sets up the fleet registry for Examples/fleet on a PostgreSQL server (Docs/fleet.md): a
# database, an owner role that migrates, one login role per node (row-level security lets each
# write only its own rows) and a read-only role for `nodes`, `catalog` and `plan --fleet`.
# Run on the database host as a user that may run `sudo -u postgres`; passwords are read from
# files, never from the command line.
set -euo pipefail
sudo -u postgres createuser --pwprompt reconcile_admin
sudo -u postgres createdb --owner reconcile_admin reconcile
export RECONCILE_REGISTRY=postgresql://reconcile_admin@localhost/reconcile
reconcile registry migrate
for node in gpu-a-01 gpu-a-02 gpu-a-03 gpu-l-01; do
  reconcile registry grant-node "$node" --password-file "/root/passwords/$node"
done
reconcile registry grant-reader fleet_reader --password-file /root/passwords/fleet_reader
