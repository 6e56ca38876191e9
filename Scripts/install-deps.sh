#!/usr/bin/env bash
# Installs the Debian packages reconcile builds against, when any is missing; with --test, also
# the Python packages its tests use.
# Runs apt-get only when something is missing, and only as root (CI, containers); otherwise it
# prints the command to run.
set -euo pipefail
packages=(libsqlite3-dev libssl-dev libcurl4-openssl-dev libpq-dev)
missing=()
for package in "${packages[@]}"; do
  dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "reconcile needs: ${missing[*]}; run: sudo apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
fi

[ "${1:-}" = "--test" ] || exit 0

# The fleet tests start a real PostgreSQL cluster (initdb and pg_ctl from Debian's server).
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "the fleet tests need PostgreSQL's server; run: sudo apt-get install -y postgresql" >&2
    exit 1
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql
fi

# The metrics tests check the exposition with promtool and scrape the agent with a real
# Prometheus server (Debian's prometheus package carries both).
if ! command -v promtool >/dev/null 2>&1 || ! command -v prometheus >/dev/null 2>&1; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "the metrics tests need Prometheus and promtool; run: sudo apt-get install -y --no-install-recommends prometheus" >&2
    exit 1
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus
fi

# The systemd units in Examples/systemd are checked with systemd-analyze verify.
if ! command -v systemd-analyze >/dev/null 2>&1; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "the example tests need systemd-analyze; run: sudo apt-get install -y systemd" >&2
    exit 1
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends systemd
fi

# Python packages the tests drive real servers and clients with: moto's S3 server and boto3
# (S3 tests), huggingface_hub (the HF cache view is checked with the real library),
# check-jsonschema (the desired-state JSON Schema is checked against every example).
python_missing=()
python3 -c 'import moto.server, flask' 2>/dev/null || python_missing+=("moto[server]")
python3 -c 'import boto3' 2>/dev/null || python_missing+=(boto3)
python3 -c 'import huggingface_hub' 2>/dev/null || python_missing+=(huggingface_hub)
command -v check-jsonschema >/dev/null 2>&1 || python_missing+=(check-jsonschema)
if [ ${#python_missing[@]} -gt 0 ]; then
  python3 -m pip install -q "${python_missing[@]}"
fi
