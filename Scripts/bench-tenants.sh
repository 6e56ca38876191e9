#!/usr/bin/env bash
# Tenant bandwidth: `reconcile apply` downloads over loopback (Tests/TestSupport/test_http_server.py)
# for a tenant with `bandwidth: 20MiB/s`, first one file, then four files at once that share the
# tenant's token bucket, and a run without a limit for comparison. Prints the achieved rate
# against the limit; nothing here passes or fails.
set -euo pipefail
out=${1:-/tmp/reconcile-bench}/tenants
here=$(cd "$(dirname "$0")/.." && pwd)
bin=$(cd "$here" && swift build -c release --show-bin-path)/reconcile
limit_mib=${BENCH_TENANT_LIMIT_MIB:-20}
size_mib=${BENCH_TENANT_SIZE_MIB:-160}
mkdir -p "$out/www"
cd "$out"

# --- files: one of size_mib, and four quarters ----------------------------------------------
if [ ! -f www/one.bin ] || [ "$(stat -c %s www/one.bin)" -ne $((size_mib << 20)) ]; then
  head -c $((size_mib << 20)) /dev/urandom > www/one.bin
  for part in 1 2 3 4; do
    head -c $((size_mib << 18)) /dev/urandom > "www/part-$part.bin"
  done
fi

# --- the test server; it exits when its stdin (the fifo) closes ----------------------------
rm -f control port.txt
mkfifo control
python3 "$here/Tests/TestSupport/test_http_server.py" www < control > port.txt &
server=$!
exec 3> control
trap 'exec 3>&-; kill $server 2>/dev/null || true' EXIT
for _ in $(seq 100); do [ -s port.txt ] && break; sleep 0.05; done
port=$(head -n 1 port.txt)

entry() { echo "          - { path: $1, size: $(stat -c %s "www/$1"), sha256: $(openssl dgst -sha256 "www/$1" | awk '{print $2}') }"; }
desired() {  # desired DIR QUOTA FILE...
  local dir=$1 quota=$2
  shift 2
  mkdir -p "$dir"
  {
    echo "models:"
    echo "  - name: bench"
    echo "    version: \"1\""
    echo "    sources: [http://127.0.0.1:$port/]"
    echo "    variants:"
    echo "      raw:"
    echo "        files:"
    for file in "$@"; do entry "$file"; done
    echo "tenants:"
    echo "  - name: bench"
    echo "    quota: $quota"
    echo "    models: [bench@1]"
    echo "policy: { min_free: 1GiB, concurrency: 4 }"
  } > "$dir/models.yaml"
}

now() { date +%s.%N; }
run() {  # run DESIRED_DIR BYTES → prints seconds and MiB/s
  rm -rf root
  local t0 t1
  t0=$(now)
  "$bin" apply --auto-approve --desired "$1" --root root --node bench >/dev/null 2>apply.log
  t1=$(now)
  python3 -c "s = $t1 - $t0; print(f'{s:.2f} {$2 / s / 1048576:.2f}')"
}

limit="{ bandwidth: ${limit_mib}MiB/s }"
desired one "$limit" one.bin
desired four "$limit" part-1.bin part-2.bin part-3.bin part-4.bin
desired open "{ disk: 1TiB }" one.bin
bytes=$((size_mib << 20))
read -r one_s one_rate < <(run one $bytes)
read -r four_s four_rate < <(run four $bytes)
read -r open_s open_rate < <(run open $bytes)

printf '\n%-52s %8s %10s %8s\n' "tenant bandwidth ($size_mib MiB over loopback)" seconds "MiB/s" "of limit"
printf '%-52s %8s %10s %8s\n' "limit: bandwidth ${limit_mib}MiB/s" "" "$limit_mib" ""
printf '%-52s %8s %10s %8s\n' "1 file, limited" "$one_s" "$one_rate" "$(python3 -c "print(f'{$one_rate / $limit_mib:.2f}')")"
printf '%-52s %8s %10s %8s\n' "4 files at once, one shared bucket" "$four_s" "$four_rate" "$(python3 -c "print(f'{$four_rate / $limit_mib:.2f}')")"
printf '%-52s %8s %10s %8s\n' "1 file, no bandwidth limit (for comparison)" "$open_s" "$open_rate" ""
