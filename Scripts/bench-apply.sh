#!/usr/bin/env bash
# Transfer and hashing benchmarks against the fastest standard tools on this machine, on the
# same data in the same run: curl for transfer, `openssl dgst -sha256` for hashing (it uses the
# CPU's SHA extensions; coreutils sha256sum may not). Prints a table of timings and ratios;
# nothing here passes or fails. Needs nginx (installed when missing and run as root).
set -euo pipefail
out=${1:-/tmp/reconcile-bench}/apply
bin=$(swift build -c release --show-bin-path)/reconcile
size_mib=${BENCH_SIZE_MIB:-2048}
mkdir -p "$out"
cd "$out"

if ! command -v nginx >/dev/null; then
  if [ "$(id -u)" -eq 0 ]; then
    apt-get install -y -qq nginx-light >/dev/null 2>&1 || apt-get install -y -qq nginx >/dev/null
  else
    echo "bench-apply needs nginx: sudo apt-get install -y nginx-light" >&2
    exit 1
  fi
fi

now() { date +%s.%N; }
elapsed() { python3 -c "print(f'{$2 - $1:.3f}')"; }
ratio() { python3 -c "print(f'{$1 / $2:.2f}')"; }
rss_mib() { awk '/Maximum resident set size/ { printf "%.0f", $6 / 1024 }' "$1"; }

# --- serve a generated file over loopback with nginx -------------------------------------
mkdir -p www logs
if [ ! -f www/big.bin ] || [ "$(stat -c %s www/big.bin)" -ne $((size_mib << 20)) ]; then
  head -c $((size_mib << 20)) /dev/urandom > www/big.bin
fi
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat > nginx.conf <<CONF
daemon off;
worker_processes 1;
pid $out/nginx.pid;
error_log $out/logs/error.log;
events { worker_connections 64; }
http {
  access_log off;
  sendfile on;
  client_body_temp_path $out/logs;
  proxy_temp_path $out/logs;
  fastcgi_temp_path $out/logs;
  uwsgi_temp_path $out/logs;
  scgi_temp_path $out/logs;
  server { listen 127.0.0.1:$port; root $out/www; }
}
CONF
nginx -c "$out/nginx.conf" -p "$out" &
nginx_pid=$!
trap 'kill $nginx_pid 2>/dev/null || true' EXIT
for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$port/big.bin" -r 0-0 && break; sleep 0.1; done

digest=$(openssl dgst -sha256 www/big.bin | awk '{print $2}')
mkdir -p desired
cat > desired/models.yaml <<YAML
models:
  - name: big
    version: "1"
    sources: [http://127.0.0.1:$port/]
    variants:
      raw:
        files:
          - { path: big.bin, size: $((size_mib << 20)), sha256: $digest }
policy: { min_free: 1GiB, concurrency: 4 }
YAML

rm -f fetched.bin
t0=$(now); curl -s -o fetched.bin "http://127.0.0.1:$port/big.bin"; t1=$(now)
curl_s=$(elapsed "$t0" "$t1")
t0=$(now); openssl dgst -sha256 fetched.bin >/dev/null; t1=$(now)
openssl_s=$(elapsed "$t0" "$t1")
rm -rf root fetched.bin
t0=$(now)
/usr/bin/time -v -o time.txt "$bin" apply --auto-approve --desired desired --root root --node bench >/dev/null 2>apply.log
t1=$(now)
reconcile_s=$(elapsed "$t0" "$t1")
rss=$(rss_mib time.txt)
sum=$(python3 -c "print($curl_s + $openssl_s)")
slower=$(python3 -c "print(max($curl_s, $openssl_s))")

# --- full verify of 20 files of 100 MiB ----------------------------------------------------
mkdir -p verify-src verify-desired
{
  echo "models:"
  echo "  - name: shards"
  echo "    version: \"1\""
  echo "    sources: [file://$out/verify-src/]"
  echo "    variants:"
  echo "      raw:"
  echo "        files:"
  for index in $(seq -w 1 20); do
    [ -f verify-src/shard-$index.bin ] || head -c $((100 << 20)) /dev/urandom > verify-src/shard-$index.bin
    echo "          - { path: shard-$index.bin, size: $((100 << 20)), sha256: $(openssl dgst -sha256 verify-src/shard-$index.bin | awk '{print $2}') }"
  done
} > verify-desired/models.yaml
rm -rf verify-root
"$bin" apply --auto-approve --desired verify-desired --root verify-root --node bench >/dev/null 2>&1
# Apply wrote around the page cache; read everything once so both tools hash from memory.
cat verify-root/blobs/sha256/*/* > /dev/null
t0=$(now); openssl dgst -sha256 verify-root/blobs/sha256/*/* >/dev/null; t1=$(now)
openssl_verify_s=$(elapsed "$t0" "$t1")
t0=$(now); "$bin" verify --full --desired verify-desired --root verify-root --node bench >/dev/null; t1=$(now)
verify_s=$(elapsed "$t0" "$t1")

# --- a no-op apply over 10,000 declared files ---------------------------------------------
mkdir -p noop-src noop-desired
python3 - "$out" <<'PY'
import hashlib, os, sys
out = sys.argv[1]
lines = ["models:"]
for model in range(100):
    lines += [f"  - name: m{model:03d}", '    version: "1"', f"    sources: [file://{out}/noop-src/]", "    variants:", "      raw:", "        files:"]
    for index in range(100):
        name = f"f{model:03d}-{index:03d}.bin"
        path = os.path.join(out, "noop-src", name)
        if not os.path.exists(path):
            with open(path, "wb") as handle:
                handle.write(name.encode() * 40)
        data = open(path, "rb").read()
        lines.append(f"          - {{ path: {name}, size: {len(data)}, sha256: {hashlib.sha256(data).hexdigest()} }}")
open(os.path.join(out, "noop-desired", "models.yaml"), "w").write("\n".join(lines) + "\n")
PY
rm -rf noop-root
"$bin" apply --auto-approve --desired noop-desired --root noop-root --node bench >/dev/null 2>&1
t0=$(now); "$bin" apply --auto-approve --desired noop-desired --root noop-root --node bench >/dev/null 2>&1; t1=$(now)
noop_s=$(elapsed "$t0" "$t1")

printf '\n%-44s %10s %10s\n' "measure ($size_mib MiB over loopback)" seconds ratio
printf '%-44s %10s %10s\n' "curl -o" "$curl_s" ""
printf '%-44s %10s %10s\n' "openssl dgst -sha256" "$openssl_s" ""
printf '%-44s %10s %10s\n' "reconcile apply (download + verify)" "$reconcile_s" ""
printf '%-44s %10s %10s\n' "  vs curl + openssl (goal <= 0.60)" "" "$(ratio "$reconcile_s" "$sum")"
printf '%-44s %10s %10s\n' "  vs the slower of the two (goal <= 1.15)" "" "$(ratio "$reconcile_s" "$slower")"
printf '%-44s %10s %10s\n' "  peak RSS MiB (goal < 64)" "$rss" ""
printf '%-44s %10s %10s\n' "openssl dgst, 20 x 100 MiB" "$openssl_verify_s" ""
printf '%-44s %10s %10s\n' "reconcile verify --full, same files" "$verify_s" ""
printf '%-44s %10s %10s\n' "  speed-up over openssl (goal >= 1.8)" "" "$(ratio "$openssl_verify_s" "$verify_s")"
printf '%-44s %10s %10s\n' "no-op apply, 10,000 files (goal < 1 s)" "$noop_s" ""
