#!/usr/bin/env bash
# Downloads as a CDN serves them: nginx on loopback caps each connection at 64 MB/s (a CDN's
# per-flow cap) and answers every request 30 ms late, 60 ms on a new connection (request
# latency plus a handshake). Three cases, each against the standard peers on the same data in
# the same run, verification included (peers: + openssl dgst -sha256 of what they fetched):
#   1. one 2 GiB file                       aria2c -x16 -s16, curl
#   2. 400 x 256 KiB + 20 x 8 MiB           curl --parallel --parallel-max 8, aria2c -j8
#   3. a Hub repo, 1 GiB + 50 x 1 MiB       huggingface_hub snapshot_download (Hub API from the
#      via the Hub's redirect to the CDN    test Hub server, bytes from the nginx CDN)
# Prints seconds and ratios (reconcile / best peer; goal <= 0.9) and reconcile's peak RSS;
# nothing here passes or fails. Needs nginx with its Lua module and aria2 (installed when
# missing and run as root) and huggingface_hub (pip).
set -euo pipefail
out=${1:-/tmp/reconcile-bench}/cdn
repo_root=$(cd "$(dirname "$0")/.." && pwd)
bin=${RECONCILE_BIN:-$(swift build -c release --show-bin-path)/reconcile}
big_mib=${BENCH_CDN_BIG_MIB:-2048}
rate=${BENCH_CDN_RATE:-64m}
mkdir -p "$out"
cd "$out"

missing=()
command -v nginx >/dev/null || missing+=(nginx)
[ -e /usr/share/nginx/modules/ngx_http_lua_module.so ] || missing+=(libnginx-mod-http-lua)
command -v aria2c >/dev/null || missing+=(aria2)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "bench-cdn needs: ${missing[*]}; run: sudo apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
python3 -c 'import huggingface_hub' 2>/dev/null || python3 -m pip install -q huggingface_hub

now() { date +%s.%N; }
elapsed() { python3 -c "print(f'{$2 - $1:.2f}')"; }
ratio() { python3 -c "print(f'{$1 / $2:.2f}')"; }
add() { python3 -c "print(f'{$1 + $2:.2f}')"; }
rss_mib() { awk '/Maximum resident set size/ { printf "%.0f", $6 / 1024 }' "$1"; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
# Hashes every file under $1 with openssl, as a peer's verification.
hash_all() { find "$1" -type f -print0 | xargs -0 -r -n 64 openssl dgst -sha256 >/dev/null; }

# --- data -----------------------------------------------------------------------------------
mkdir -p www/big www/many hub/org/repo/c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00
[ "$(stat -c %s www/big/big.bin 2>/dev/null || echo 0)" -eq $((big_mib << 20)) ] || head -c $((big_mib << 20)) /dev/urandom > www/big/big.bin
for index in $(seq -w 1 400); do [ -f www/many/small-$index.bin ] || head -c $((256 << 10)) /dev/urandom > www/many/small-$index.bin; done
for index in $(seq -w 1 20); do [ -f www/many/medium-$index.bin ] || head -c $((8 << 20)) /dev/urandom > www/many/medium-$index.bin; done
commit=c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00
snapshot=hub/org/repo/$commit
[ -f $snapshot/model.safetensors ] || head -c $((1 << 30)) /dev/urandom > $snapshot/model.safetensors
for index in $(seq -w 1 50); do [ -f $snapshot/shard-$index.bin ] || head -c $((1 << 20)) /dev/urandom > $snapshot/shard-$index.bin; done
echo "{\"main\": \"$commit\"}" > hub/org/repo/refs.json

# --- nginx: the CDN ---------------------------------------------------------------------------
port=$(free_port)
mkdir -p logs
cat > nginx.conf <<CONF
daemon off;
worker_processes 2;
pid $out/nginx.pid;
error_log $out/logs/error.log;
load_module /usr/share/nginx/modules/ndk_http_module.so;
load_module /usr/share/nginx/modules/ngx_http_lua_module.so;
events { worker_connections 1024; }
http {
  access_log off;
  sendfile on;
  keepalive_requests 100000;
  keepalive_timeout 60s;
  client_body_temp_path $out/logs;
  proxy_temp_path $out/logs;
  fastcgi_temp_path $out/logs;
  uwsgi_temp_path $out/logs;
  scgi_temp_path $out/logs;
  server {
    listen 127.0.0.1:$port;
    limit_rate $rate;
    # 30 ms per request; 30 ms more for the first request of a connection.
    access_by_lua_block {
      if ngx.var.connection_requests == "1" then ngx.sleep(0.06) else ngx.sleep(0.03) end
    }
    location / { root $out/www; }
    location /repos/ { alias $out/hub/; }
  }
}
CONF
nginx -c "$out/nginx.conf" -p "$out" &
nginx_pid=$!
hub_pid=""
cleanup() { kill $nginx_pid ${hub_pid:-} 2>/dev/null || true; }
trap cleanup EXIT
for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$port/big/big.bin" -r 0-0 && break; sleep 0.1; done
cdn=http://127.0.0.1:$port

# The Hub API (test server) redirecting every file to the nginx CDN.
mkfifo hub.stdin 2>/dev/null || true
python3 "$repo_root/Tests/TestSupport/test_hub_server.py" hub --cdn-base "$cdn" < hub.stdin > hub.ports &
hub_pid=$!
exec 9> hub.stdin
for _ in $(seq 50); do [ -s hub.ports ] && break; sleep 0.1; done
hub_port=$(awk '{print $1}' hub.ports)
hub=http://127.0.0.1:$hub_port

# --- desired states ---------------------------------------------------------------------------
desired_for() { # name source directory-with-files
  local name=$1 source=$2 directory=$3
  mkdir -p "desired-$name"
  {
    echo "models:"
    echo "  - name: $name"
    echo "    version: \"1\""
    echo "    sources: [\"$source\"]"
    echo "    variants:"
    echo "      raw:"
    echo "        files:"
    (cd "$directory" && find . -type f | sed 's|^\./||' | sort | while read -r file; do
      echo "          - { path: $file, size: $(stat -c %s "$file"), sha256: $(openssl dgst -sha256 "$file" | awk '{print $2}') }"
    done)
    echo "policy: { min_free: 1GiB }"
  } > "desired-$name/models.yaml"
}
desired_for big "$cdn/big/" www/big
desired_for many "$cdn/many/" www/many
desired_for hub "hf://org/repo@$commit" $snapshot

run_reconcile() { # name → seconds; peak RSS in rss-<name>.txt
  rm -rf "root-$1"
  local t0 t1
  t0=$(now)
  HF_ENDPOINT=$hub /usr/bin/time -v -o "time-$1.txt" "$bin" apply --auto-approve --desired "desired-$1" --root "root-$1" --node bench >/dev/null 2>"apply-$1.log"
  t1=$(now)
  elapsed "$t0" "$t1"
}

# --- case 1: one big file ---------------------------------------------------------------------
rm -rf peer && mkdir peer
t0=$(now); aria2c -q -x16 -s16 -k1M --file-allocation=none -d peer -o big.bin "$cdn/big/big.bin"; t1=$(now)
aria_big=$(elapsed "$t0" "$t1")
t0=$(now); openssl dgst -sha256 peer/big.bin >/dev/null; t1=$(now)
hash_big=$(elapsed "$t0" "$t1")
rm -rf peer && mkdir peer
t0=$(now); curl -s -o peer/big.bin "$cdn/big/big.bin"; t1=$(now)
curl_big=$(elapsed "$t0" "$t1")
rm -rf peer
reconcile_big=$(run_reconcile big)
best_big=$(python3 -c "print(f'{min($aria_big, $curl_big) + $hash_big:.2f}')")

# --- case 2: many files -----------------------------------------------------------------------
(cd www/many && ls) | sort | sed "s|^|$cdn/many/|" > many.urls
rm -rf peer && mkdir peer
t0=$(now)
(cd peer && sed 's/^/url = /; a\
remote-name' ../many.urls | curl -s --no-progress-meter --parallel --parallel-max 8 -K -)
t1=$(now)
curl_many=$(elapsed "$t0" "$t1")
t0=$(now); hash_all peer; t1=$(now)
hash_many=$(elapsed "$t0" "$t1")
rm -rf peer && mkdir peer
t0=$(now); aria2c -q -j8 -x1 --file-allocation=none -d peer -i many.urls; t1=$(now)
aria_many=$(elapsed "$t0" "$t1")
rm -rf peer
reconcile_many=$(run_reconcile many)
best_many=$(python3 -c "print(f'{min($curl_many, $aria_many) + $hash_many:.2f}')")

# --- case 3: a Hub repository through the CDN redirect ------------------------------------------
rm -rf hf-cache
t0=$(now)
HF_ENDPOINT=$hub HF_HUB_CACHE=$out/hf-cache HF_HUB_DISABLE_TELEMETRY=1 HF_HUB_ENABLE_HF_TRANSFER=0 \
  python3 -c "from huggingface_hub import snapshot_download; snapshot_download('org/repo', revision='$commit')" >/dev/null 2>&1
t1=$(now)
hf_hub=$(elapsed "$t0" "$t1")
t0=$(now); hash_all hf-cache; t1=$(now)
hash_hub=$(elapsed "$t0" "$t1")
rm -rf hf-cache
reconcile_hub=$(run_reconcile hub)
best_hub=$(add "$hf_hub" "$hash_hub")

printf '\nCDN on loopback: %s per connection, +30 ms a request, +30 ms a new connection\n' "$rate"
printf '%-52s %9s %9s %9s\n' "case" peer reconcile ratio
printf '%-52s %9s\n' "1. one ${big_mib} MiB file: aria2c -x16 -s16" "$aria_big"
printf '%-52s %9s\n' "   curl (one connection)" "$curl_big"
printf '%-52s %9s\n' "   openssl dgst -sha256" "$hash_big"
printf '%-52s %9s %9s %9s\n' "   best peer + hash vs reconcile apply (goal <= 0.9)" "$best_big" "$reconcile_big" "$(ratio "$reconcile_big" "$best_big")"
printf '%-52s %9s\n' "2. 400 x 256 KiB + 20 x 8 MiB: curl --parallel 8" "$curl_many"
printf '%-52s %9s\n' "   aria2c -j8" "$aria_many"
printf '%-52s %9s\n' "   openssl dgst -sha256" "$hash_many"
printf '%-52s %9s %9s %9s\n' "   best peer + hash vs reconcile apply (goal <= 0.9)" "$best_many" "$reconcile_many" "$(ratio "$reconcile_many" "$best_many")"
printf '%-52s %9s\n' "3. Hub repo 1 GiB + 50 x 1 MiB: snapshot_download" "$hf_hub"
printf '%-52s %9s\n' "   openssl dgst -sha256" "$hash_hub"
printf '%-52s %9s %9s %9s\n' "   peer + hash vs reconcile apply (goal <= 0.9)" "$best_hub" "$reconcile_hub" "$(ratio "$reconcile_hub" "$best_hub")"
printf '%-52s %9s %9s %9s\n' "reconcile peak RSS MiB (goal < 64)" "" "$(rss_mib time-big.txt)/$(rss_mib time-many.txt)/$(rss_mib time-hub.txt)" ""
