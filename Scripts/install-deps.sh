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

# Python packages the tests drive real servers and clients with: moto's S3 server and boto3
# (S3 tests), huggingface_hub (the HF cache view is checked with the real library).
python_missing=()
python3 -c 'import moto.server, flask' 2>/dev/null || python_missing+=("moto[server]")
python3 -c 'import boto3' 2>/dev/null || python_missing+=(boto3)
python3 -c 'import huggingface_hub' 2>/dev/null || python_missing+=(huggingface_hub)
if [ ${#python_missing[@]} -gt 0 ]; then
  python3 -m pip install -q "${python_missing[@]}"
fi
