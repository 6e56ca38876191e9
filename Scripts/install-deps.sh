#!/usr/bin/env bash
# Installs the Debian packages reconcile builds and tests against, when any is missing.
# Runs apt-get only when something is missing, and only as root (CI, containers); otherwise it
# prints the command to run.
set -euo pipefail
packages=(libsqlite3-dev libssl-dev libcurl4-openssl-dev)
missing=()
for package in "${packages[@]}"; do
  dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "reconcile needs: ${missing[*]}; run: sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
