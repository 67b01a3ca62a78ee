#!/usr/bin/env bash
# data_fetch.sh: `greenml data fetch/synth/check` end to end, over real HTTP
# on the loopback interface.
#
#   bash tests/cli/data_fetch.sh GREENML_BINARY
#
# A small synthetic data set is packed as cifar-10-batches-bin/*.bin (plus its
# manifest) into a .tar.gz with tar, its MD5 taken with md5sum, and the
# directory served by `python3 -m http.server` on 127.0.0.1 (a port the
# kernel picks). Checked: a good download, its validation, an archive
# already on disk given as a file:// URL, a wrong MD5, an HTTP 404, a refused
# connection (with the offline hint), archives without the batch files or not
# archives at all, an output directory that cannot be created, the loader's
# exit codes, and a directory that already holds an official-size set.
#
# Prints "ok - ..." or "not ok - ..." per check and "N passed, M failed" at
# the end; exits 1 when a check failed, 2 on bad usage.
set -u

if [ $# -ne 1 ]; then
  echo "usage: $0 GREENML_BINARY" >&2
  exit 2
fi
GREENML=$1
case $GREENML in /*) ;; *) GREENML=$PWD/$GREENML ;; esac
if [ ! -x "$GREENML" ]; then
  echo "$0: '$GREENML' is not an executable" >&2
  exit 2
fi
for tool in python3 tar gzip md5sum timeout truncate; do
  if ! command -v "$tool" >/dev/null; then
    echo "$0: '$tool' is needed" >&2
    exit 2
  fi
done
# Loopback requests must not go through a proxy from the environment.
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy
export no_proxy=127.0.0.1,localhost NO_PROXY=127.0.0.1,localhost

TMP=$(mktemp -d "${TMPDIR:-/tmp}/greenml-data-fetch.XXXXXX") || exit 2
SERVER=
cleanup() {
  if [ -n "$SERVER" ]; then
    kill "$SERVER" 2>/dev/null
    wait "$SERVER" 2>/dev/null
  fi
  cd / && rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

passed=0
failed=0
ok() {
  echo "ok - $1"
  passed=$((passed + 1))
}
not_ok() {
  echo "not ok - $1"
  failed=$((failed + 1))
}

# run NAME WANT_EXIT REGEX... -- ARGS: runs greenml ARGS (60 s at most),
# checks its exit status and that stdout + stderr match every REGEX.
OUT=$TMP/out
run() {
  local name=$1 want=$2
  shift 2
  local res=()
  while [ $# -gt 0 ] && [ "$1" != -- ]; do
    res+=("$1")
    shift
  done
  shift
  timeout 60 "$GREENML" "$@" </dev/null >"$OUT" 2>&1
  local got=$?
  if [ "$got" -ne "$want" ]; then
    not_ok "$name (expected exit $want got $got: $(tr '\n' ' ' <"$OUT" | cut -c1-400))"
    return 1
  fi
  local re
  for re in "${res[@]}"; do
    if ! grep -Eq -e "$re" "$OUT"; then
      not_ok "$name (no output matching /$re/: $(tr '\n' ' ' <"$OUT" | cut -c1-400))"
      return 1
    fi
  done
  ok "$name"
}

# check NAME COMMAND...: a shell condition as a check.
check() {
  local name=$1
  shift
  if "$@"; then ok "$name"; else not_ok "$name"; fi
}

# no_leftovers DIR: no .bin, archive or temporary file in DIR.
no_leftovers() {
  local f
  for f in "$1"/*.bin "$1"/*.part "$1"/*.tar.gz "$1"/*.tmp~; do
    [ -e "$f" ] && return 1
  done
  return 0
}

# ---- the archive and the server --------------------------------------------
WWW=$TMP/www
mkdir -p "$WWW" "$TMP/src"
run "synth writes the data set to pack" 0 "wrote a synthetic data set" -- \
  data synth --dir "$TMP/src/cifar-10-batches-bin" --seed 5 \
  --train-per-batch 50 --test 40
tar -czf "$WWW/x.tar.gz" -C "$TMP/src" cifar-10-batches-bin || exit 2
MD5=$(md5sum "$WWW/x.tar.gz" | cut -d' ' -f1)
WRONG_MD5=00000000000000000000000000000000
# An archive without the batch files, and a file that is no archive.
echo hello >"$TMP/src/readme.txt"
tar -czf "$WWW/empty.tar.gz" -C "$TMP/src" readme.txt || exit 2
EMPTY_MD5=$(md5sum "$WWW/empty.tar.gz" | cut -d' ' -f1)
echo "not an archive" >"$WWW/text.tar.gz"
TEXT_MD5=$(md5sum "$WWW/text.tar.gz" | cut -d' ' -f1)

(cd "$WWW" && exec python3 -u -m http.server --bind 127.0.0.1 0) \
  >"$TMP/server.log" 2>&1 &
SERVER=$!
PORT=
for _ in $(seq 100); do
  PORT=$(sed -n 's/.*port \([0-9][0-9]*\).*/\1/p' "$TMP/server.log" | head -n1)
  [ -n "$PORT" ] && break
  sleep 0.1
done
if [ -z "$PORT" ]; then
  echo "not ok - the HTTP server did not start: $(cat "$TMP/server.log")"
  echo "0 passed, 1 failed"
  exit 1
fi
BASE=http://127.0.0.1:$PORT
# A port nobody listens on: bound, then released.
DEAD_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')

# ---- a good download ---------------------------------------------------------
D=$TMP/d
run "fetch over HTTP: MD5 verified, installed" 0 \
  "downloaded the archive .*x?cifar-10-binary\.tar\.gz' \([0-9]+ bytes, MD5 $MD5 verified\)" \
  "installed and validated" -- \
  data fetch cifar10 --url "$BASE/x.tar.gz" --md5 "$MD5" --dir "$D"
check "fetch: six .bin files and the manifest in D" test -f "$D/data_batch_1.bin" \
  -a -f "$D/data_batch_5.bin" -a -f "$D/test_batch.bin" \
  -a -f "$D/greenml-synthetic.txt"
check "fetch: the files equal the packed ones" \
  cmp -s "$D/data_batch_3.bin" "$TMP/src/cifar-10-batches-bin/data_batch_3.bin"
check "fetch: no archive or .part left" \
  test ! -e "$D/cifar-10-binary.tar.gz" -a ! -e "$D/cifar-10-binary.tar.gz.part"
run "check after fetch" 0 "synthetic data set" "^0 airplane +25 +4$" \
  "^total +250 +40$" -- data check --dir "$D"
run "fetch with the option after the name, upper-case MD5" 0 "MD5 $MD5 verified" -- \
  data fetch --dir "$D" cifar10 --md5 "${MD5^^}" --url "$BASE/x.tar.gz"

# An archive the user already has, given as a file:// URL: no server.
DF=$TMP/dfile
run "fetch from a file:// URL: MD5 verified, installed" 0 \
  "archive .*cifar-10-binary\.tar\.gz' \([0-9]+ bytes, MD5 $MD5 verified\)" \
  "installed and validated" -- \
  data fetch cifar10 --url "file://$WWW/x.tar.gz" --md5 "$MD5" --dir "$DF"
check "file:// fetch: the files equal the packed ones" \
  cmp -s "$DF/test_batch.bin" "$TMP/src/cifar-10-batches-bin/test_batch.bin"
check "file:// fetch: the source archive is left alone" test -f "$WWW/x.tar.gz"
run "fetch from a missing file:// archive: 74, named" 74 \
  "^greenml data fetch: cannot download 'file://$TMP/none\.tar\.gz': .*$TMP/none\.tar\.gz" -- \
  data fetch cifar10 --url "file://$TMP/none.tar.gz" --md5 "$MD5" --dir "$TMP/dnone"
check "missing file:// archive: nothing left in D" no_leftovers "$TMP/dnone"

# A verified archive already in D (an interrupted install) is used as it is:
# the URL is never contacted.
D3=$TMP/d3
mkdir -p "$D3"
cp "$WWW/x.tar.gz" "$D3/cifar-10-binary.tar.gz"
run "fetch: a verified archive in D is reused" 0 \
  "reused the archive .*MD5 $MD5 verified" -- \
  data fetch cifar10 --url "http://127.0.0.1:$DEAD_PORT/x.tar.gz" --md5 "$MD5" \
  --dir "$D3"
check "fetch: the reused archive is deleted after the install" \
  test ! -e "$D3/cifar-10-binary.tar.gz" -a -f "$D3/test_batch.bin"

# An archive without a manifest replaces a synthetic set: the stale manifest
# goes, and the small files then fail the official size check.
mkdir -p "$TMP/nomanifest/cifar-10-batches-bin"
cp "$TMP/src/cifar-10-batches-bin/"*.bin "$TMP/nomanifest/cifar-10-batches-bin/"
tar -czf "$WWW/nomanifest.tar.gz" -C "$TMP/nomanifest" cifar-10-batches-bin || exit 2
NM_MD5=$(md5sum "$WWW/nomanifest.tar.gz" | cut -d' ' -f1)
run "fetch: no manifest in the archive, stale one removed, sizes checked" 65 \
  "data_batch_1\.bin' is 153650 bytes, expected 30730000" -- \
  data fetch cifar10 --url "$BASE/nomanifest.tar.gz" --md5 "$NM_MD5" --dir "$D3"
check "fetch: the stale manifest is gone" test ! -e "$D3/greenml-synthetic.txt"

# ---- failures ------------------------------------------------------------------
D2=$TMP/d2
run "wrong MD5: 65, download deleted" 65 \
  "checksum mismatch: '$BASE/x\.tar\.gz' \([0-9]+ bytes\) has MD5 $MD5, expected $WRONG_MD5" \
  "the download was deleted" -- \
  data fetch cifar10 --url "$BASE/x.tar.gz" --md5 "$WRONG_MD5" --dir "$D2"
check "wrong MD5: nothing left in D" no_leftovers "$D2"
run "HTTP 404: 74 with the status code" 74 \
  "cannot download '$BASE/missing\.tar\.gz': HTTP status 404" -- \
  data fetch cifar10 --url "$BASE/missing.tar.gz" --md5 "$MD5" --dir "$D2"
check "HTTP 404: nothing left in D" no_leftovers "$D2"
run "connection refused: 74, with the offline alternatives" 74 \
  "cannot download 'http://127\.0\.0\.1:$DEAD_PORT/x\.tar\.gz': .*connect" \
  "offline, 'greenml train --data synthetic' .* use generated data instead" \
  "--url file:///path/to/cifar-10-binary\.tar\.gz" -- \
  data fetch cifar10 --url "http://127.0.0.1:$DEAD_PORT/x.tar.gz" --dir "$D2"
check "connection refused: nothing left in D" no_leftovers "$D2"
run "archive without the batch files: 65" 65 \
  "has no 'data_batch_1\.bin' \(not the CIFAR-10 binary archive" -- \
  data fetch cifar10 --url "$BASE/empty.tar.gz" --md5 "$EMPTY_MD5" --dir "$D2"
check "archive without the batch files: nothing left in D" no_leftovers "$D2"
check "archive without the batch files: says the archive was deleted" \
  grep -q "the archive was deleted" "$OUT"
run "not an archive: 65" 65 "cannot (open|extract) '.*cifar-10-binary\.tar\.gz'" -- \
  data fetch cifar10 --url "$BASE/text.tar.gz" --md5 "$TEXT_MD5" --dir "$D2"
check "not an archive: nothing left in D" no_leftovers "$D2"
run "output directory cannot be created: 73" 73 \
  "^greenml data fetch: cannot create files in '/proc/greenml-no/d'" -- \
  data fetch cifar10 --url "$BASE/x.tar.gz" --dir /proc/greenml-no/d

# ---- the loader's exit codes through `check` -----------------------------------
truncate -s 1000 "$D/data_batch_2.bin"
run "check: a truncated file is 65 and named" 65 \
  "'$D/data_batch_2\.bin' is 1000 bytes, expected 153650 \(50 records" -- \
  data check --dir "$D"
cp "$TMP/src/cifar-10-batches-bin/data_batch_2.bin" "$D/"
rm -f "$D/test_batch.bin"
run "check: a missing file is 66 and named" 66 \
  "^greenml data check: '$D/test_batch\.bin' does not exist \(1 of 1 file missing\)" -- \
  data check --dir "$D"
run "check: no directory is 66 with the fix" 66 \
  "does not exist: run 'greenml data fetch cifar10 --dir $TMP/none'" -- \
  data check --dir "$TMP/none"

# ---- an official-size set is kept: nothing is downloaded -----------------------
O=$TMP/official
mkdir -p "$O"
for f in data_batch_1 data_batch_2 data_batch_3 data_batch_4 data_batch_5 \
  test_batch; do
  truncate -s 30730000 "$O/$f.bin"
done
run "check: an official-size set" 0 "CIFAR-10 \(official file sizes\)" \
  "^0 airplane +50000 +10000$" -- data check --dir "$O"
run "fetch: an existing valid set is not downloaded again" 0 \
  "already holds a valid CIFAR-10 .*nothing to do" -- \
  data fetch cifar10 --url "http://127.0.0.1:$DEAD_PORT/x.tar.gz" --dir "$O"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
