#!/usr/bin/env bash
# Fleet benchmark: placement of 10,000 variants over 1,000 nodes (`plan --fleet`, and one node's
# own plan), the share of replicas that move when one of N nodes leaves or joins, and the
# registry's catalog query and heartbeat upsert rates on a local PostgreSQL holding 1,000
# simulated nodes. Timings only; nothing here passes or fails. Needs PostgreSQL's server and
# pgbench (Debian's postgresql and postgresql-contrib); run as root or as a user that may run
# initdb.
set -euo pipefail
out=${1:-/tmp/reconcile-bench}/fleet
bin=$(swift build -c release --show-bin-path)/reconcile
pgbin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
rm -rf "$out" && mkdir -p "$out"
as_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
[ "$(id -u)" -eq 0 ] && chown postgres "$out"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
as_pg "$pgbin/initdb" -D "$out/pg" -A trust -U postgres --no-sync >/dev/null
as_pg "$pgbin/pg_ctl" -D "$out/pg" -l "$out/pg.log" -w -o "-p $port -k $out -c listen_addresses=127.0.0.1 -c fsync=off" start >/dev/null </dev/null
trap 'as_pg "$pgbin/pg_ctl" -D "$out/pg" -m immediate stop >/dev/null 2>&1 || true' EXIT
export RECONCILE_REGISTRY="postgresql://postgres@127.0.0.1:$port/postgres"
now() { python3 -c 'import time; print(time.time())'; }
elapsed() { python3 -c "print('%.3f' % ($2 - $1))"; }

python3 "$(dirname "$0")/generate-desired.py" "$out/desired" --models 10000 --nodes 1000 --replicas 3 >/dev/null
"$bin" registry migrate >/dev/null

t0=$(now); "$bin" validate "$out/desired" >/dev/null; t1=$(now); validate_s=$(elapsed "$t0" "$t1")
# Without holdings: placement is rendezvous alone.
t0=$(now); RECONCILE_REGISTRY= "$bin" plan --fleet --json --desired "$out/desired" >"$out/before.json"; t1=$(now); fleet_s=$(elapsed "$t0" "$t1")
t0=$(now); RECONCILE_REGISTRY= "$bin" plan --desired "$out/desired" --root "$out/root" --node node-042 >/dev/null; t1=$(now); node_s=$(elapsed "$t0" "$t1")

# 1,000 simulated nodes reporting now, each holding its share of the first placement.
python3 - "$out" <<'PY'
import json, sys
out = sys.argv[1]
plan = json.load(open(f"{out}/before.json"))
with open(f"{out}/nodes.csv", "w") as nodes, open(f"{out}/holdings.csv", "w") as holdings:
    for share in plan["nodes"]:
        nodes.write(f"{share['node']},{share['pool']},ready,bench,now()\n")
        for variant in share["variants"]:
            name, rest = variant.split("@", 1)
            version, var = rest.rsplit(":", 1)
            holdings.write(f"{share['node']},{name},{version},{var},1000,now()\n")
PY
psql() { as_pg "$pgbin/psql" -X -q -h 127.0.0.1 -p "$port" -U postgres -d postgres "$@"; }
psql -c "\copy reconcile_node (name, pool, state, agent_version, last_heartbeat) FROM '$out/nodes.csv' CSV" >/dev/null
psql -c "\copy reconcile_holding (node, model, version, variant, bytes, verified_at) FROM '$out/holdings.csv' CSV" >/dev/null

moved() {  # replicas placed on a node that does not hold them yet
  python3 -c "import json,sys; p=json.load(open(sys.argv[1])); print(sum(len(n['adds']) for n in p['nodes']))" "$1"
}
total=$(python3 -c "import json,sys; p=json.load(open(sys.argv[1])); print(sum(len(n['variants']) for n in p['nodes']))" "$out/before.json")
# One node stops reporting.
psql -c "UPDATE reconcile_node SET last_heartbeat = now() - interval '1 hour' WHERE name = 'node-500'" >/dev/null
t0=$(now); "$bin" plan --fleet --json --desired "$out/desired" >"$out/left.json"; t1=$(now); fleet_registry_s=$(elapsed "$t0" "$t1")
left=$(moved "$out/left.json")
psql -c "UPDATE reconcile_node SET last_heartbeat = now() WHERE name = 'node-500'" >/dev/null
# One node joins.
sed -i 's/      - { name: node-000, disk: \(.*\) }/      - { name: node-000, disk: \1 }\n      - { name: node-1000, disk: \1 }/' "$out/desired/pools.yaml"
psql -c "INSERT INTO reconcile_node (name, pool, state, agent_version, last_heartbeat) VALUES ('node-1000', 'pool', 'ready', 'bench', now())" >/dev/null
"$bin" plan --fleet --json --desired "$out/desired" >"$out/joined.json"
joined=$(moved "$out/joined.json")

# The registry's rates: the catalog's two queries, and the heartbeat upsert, 2 clients for 5 s each.
cat >"$out/catalog.sql" <<'SQL'
SELECT name, pool, state, disk_total, disk_free, vram, agent_version, extract(epoch FROM last_heartbeat), desired_commit, last_apply_outcome, extract(epoch FROM last_apply_at) FROM reconcile_node ORDER BY name;
SELECT node, model, version, variant, bytes FROM reconcile_holding ORDER BY node, model, version, variant;
SQL
cat >"$out/heartbeat.sql" <<'SQL'
\set n random(0, 999)
INSERT INTO reconcile_node (name, pool, state, agent_version, last_heartbeat) VALUES ('node-' || lpad(:n::text, 3, '0'), 'pool', 'ready', 'bench', now())
ON CONFLICT (name) DO UPDATE SET last_heartbeat = excluded.last_heartbeat, state = excluded.state, agent_version = excluded.agent_version;
SQL
rate() { as_pg "$pgbin/pgbench" -n -h 127.0.0.1 -p "$port" -U postgres -c 2 -j 2 -T 5 -f "$1" postgres 2>/dev/null | awk '/^tps/ {printf "%.0f", $3}'; }
catalog_tps=$(rate "$out/catalog.sql")
heartbeat_tps=$(rate "$out/heartbeat.sql")

printf '\n%-58s %10s\n' "fleet: 10,000 models (~10,000 variants), 1,000 nodes, replicas 3" seconds
printf '%-58s %10s\n' "validate (reading the 10 MB of YAML)" "$validate_s"
printf '%-58s %10s\n' "plan --fleet, no registry (1,000 shares)" "$fleet_s"
printf '%-58s %10s\n' "plan --fleet, registry with 1,000 nodes and holdings" "$fleet_registry_s"
printf '%-58s %10s\n' "plan of one node (node-042)" "$node_s"
printf '%-58s %10s\n' "replicas moved when 1 of 1,000 nodes stops (ideal ~1/N)" "$left of $total ($(python3 -c "print('%.4f' % ($left / $total))"))"
printf '%-58s %10s\n' "replicas moved when a node joins (sticky: 0)" "$joined of $total"
printf '%-58s %10s\n' "catalog queries per second (2 clients, 1,000 nodes)" "$catalog_tps"
printf '%-58s %10s\n' "heartbeat upserts per second (2 clients)" "$heartbeat_tps"
