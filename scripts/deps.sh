#!/usr/bin/env bash
# Installs the Debian packages greenml needs to build and test, when missing.
# As root it runs apt-get; otherwise it prints the exact command and fails.
set -euo pipefail
pkgs=(cmake make gcc pkg-config libsqlite3-dev libcmocka-dev clang-format sqlite3 python3 procps libcurl4-openssl-dev libarchive-dev libssl-dev libdnnl-dev libgsl-dev gnuplot-nox chromium binutils man-db python3-torch python3-pandas libmicrohttpd-dev prometheus curl libpq-dev postgresql slurm-wlm munge)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -eq 0 ]; then
  echo "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "greenml needs these Debian packages: ${missing[*]}" >&2
  echo "run: sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
