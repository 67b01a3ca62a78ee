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
# A hostile server (a python3 http.server subclass written and started here)
# checks the limits: an endless body stopped at --max-filesize, a
# Content-Length over it refused, a 2 bytes/s trickle abandoned by the
# low-speed limit within its time; archives whose members are larger than a
# batch file are refused while extracting and leave nothing; a symlink
# planted at the .part path is never written through.
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
HOSTILE=
cleanup() {
  local p
  for p in $SERVER $HOSTILE; do
    kill "$p" 2>/dev/null
    wait "$p" 2>/dev/null
  done
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

# no_leftovers DIR: no .bin, archive, temporary file or staging directory
# in DIR.
no_leftovers() {
  local f
  for f in "$1"/*.bin "$1"/*.part "$1"/*.tar.gz "$1"/*.tmp~ \
    "$1"/.greenml-fetch-*; do
    [ -e "$f" ] && return 1
  done
  return 0
}

# no_leftovers_but_bin DIR: no archive, temporary file or staging directory.
no_leftovers_but_bin() {
  local f
  for f in "$1"/*.part "$1"/*.tar.gz "$1"/*.tmp~ "$1"/.greenml-fetch-*; do
    [ -e "$f" ] && return 1
  done
  return 0
}

# timed NAME MAX_S WANT_EXIT REGEX... -- ARGS: run, also checking that it
# ended within MAX_S seconds (under a 10 s timeout).
timed() {
  local name=$1 max=$2
  shift 2
  local t0 t1
  t0=$(date +%s%N)
  run "$name" "$@"
  local rc=$?
  t1=$(date +%s%N)
  local ms=$(((t1 - t0) / 1000000))
  if [ "$ms" -le $((max * 1000)) ]; then
    ok "$name: ended in ${ms} ms (at most ${max} s)"
  else
    not_ok "$name: took ${ms} ms, more than ${max} s"
  fi
  return $rc
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
run "fetch: an archive without a manifest is validated before it is installed" 65 \
  "'$D3/data_batch_1\.bin' is 153650 bytes, expected 30730000" \
  "nothing was installed; the archive was deleted" -- \
  data fetch cifar10 --url "$BASE/nomanifest.tar.gz" --md5 "$NM_MD5" --dir "$D3"
check "fetch: the data set in D is left as it was (manifest kept)" \
  test -f "$D3/greenml-synthetic.txt"
check "fetch: no archive, .part or staging directory left" no_leftovers_but_bin "$D3"
run "check: the earlier set still validates" 0 "synthetic data set" -- \
  data check --dir "$D3"

# ---- a hostile server: limits ----------------------------------------------------
cat >"$TMP/hostile.py" <<'PY'
# A server that misbehaves on purpose: /endless never ends its body,
# /announced announces 300 MiB, /slow trickles 2 bytes/s; anything else is a
# file of the directory given.
import http.server, os, socketserver, sys, time

class Handler(http.server.SimpleHTTPRequestHandler):
    protocol_version = "HTTP/1.0"

    def log_message(self, *args):
        pass

    def do_GET(self):
        try:
            if self.path == "/endless":
                self.send_response(200)
                self.send_header("Content-Type", "application/gzip")
                self.end_headers()
                chunk = b"\0" * 65536
                while True:
                    self.wfile.write(chunk)
            elif self.path == "/announced":
                self.send_response(200)
                self.send_header("Content-Length", str(300 << 20))
                self.end_headers()
                self.wfile.write(b"\0" * 1024)
                time.sleep(20)
            elif self.path == "/slow":
                self.send_response(200)
                self.send_header("Content-Length", "100000")
                self.end_headers()
                for _ in range(50000):
                    self.wfile.write(b"ab")
                    self.wfile.flush()
                    time.sleep(1)
            else:
                super().do_GET()
        except (BrokenPipeError, ConnectionResetError):
            pass

class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True

os.chdir(sys.argv[1])
server = Server(("127.0.0.1", 0), Handler)
print("port", server.server_address[1], flush=True)
server.serve_forever()
PY
python3 -u "$TMP/hostile.py" "$WWW" >"$TMP/hostile.log" 2>&1 &
HOSTILE=$!
HPORT=
for _ in $(seq 100); do
  HPORT=$(sed -n 's/^port \([0-9][0-9]*\)$/\1/p' "$TMP/hostile.log" | head -n1)
  [ -n "$HPORT" ] && break
  sleep 0.1
done
if [ -z "$HPORT" ]; then
  not_ok "the hostile server did not start: $(cat "$TMP/hostile.log")"
else
  H=http://127.0.0.1:$HPORT
  DH=$TMP/dh
  timed "endless body: stopped at --max-filesize, 65, the limit named" 10 65 \
    "'$H/endless' is larger than the download limit of 1048576 bytes \(1 MiB; the CIFAR-10 archive is 170052171 bytes\) \(stopped after [0-9]+ bytes\); the download was deleted \(--max-filesize raises the limit\)" -- \
    data fetch cifar10 --url "$H/endless" --md5 "$MD5" --dir "$DH" --max-filesize 1M
  check "endless body: the .part is removed, nothing left" no_leftovers "$DH"
  timed "Content-Length over the limit: refused before the body, 65" 10 65 \
    "'$H/announced' is larger than the download limit of 268435456 bytes \(256 MiB; .*\), as its Content-Length says; the download was deleted" -- \
    data fetch cifar10 --url "$H/announced" --md5 "$MD5" --dir "$DH"
  check "Content-Length over the limit: nothing left" no_leftovers "$DH"
  timed "2 bytes/s: the low-speed limit ends it within its time, 74" 8 74 \
    "cannot download '$H/slow': slower than the low-speed limit of 1024 bytes/s for 2 s \([0-9]+ bytes received\): .*; the download was deleted \(--speed-limit and --speed-time change the limit\)" -- \
    data fetch cifar10 --url "$H/slow" --md5 "$MD5" --dir "$DH" \
    --speed-limit 1024 --speed-time 2
  check "2 bytes/s: the .part is removed, nothing left" no_leftovers "$DH"
  run "a bad limit is a usage error" 64 \
    "^greenml data fetch: --max-filesize '12Q' is not a size" -- \
    data fetch cifar10 --dir "$DH" --max-filesize 12Q
  run "a zero limit is a usage error" 64 \
    "^greenml data fetch: --speed-time '0' is not a positive integer" -- \
    data fetch cifar10 --dir "$DH" --speed-time 0
  kill "$HOSTILE" 2>/dev/null
  wait "$HOSTILE" 2>/dev/null
fi

# ---- archives with oversized members ----------------------------------------------
# A batch file one byte too long, and one whose header claims 3 GB (the rest of
# the archive is never written: it is refused on the header).
python3 - "$WWW" "$TMP/src/cifar-10-batches-bin" <<'PY' || exit 2
import gzip, io, os, sys, tarfile
www, src = sys.argv[1], sys.argv[2]
with tarfile.open(os.path.join(www, "big-member.tar.gz"), "w:gz") as t:
    for name in sorted(os.listdir(src)):
        if name != "data_batch_1.bin":
            t.add(os.path.join(src, name), "cifar-10-batches-bin/" + name)
    info = tarfile.TarInfo("cifar-10-batches-bin/data_batch_1.bin")
    info.size = 30730001
    class Zeros(io.RawIOBase):
        def __init__(self, n): self.n = n
        def readable(self): return True
        def readinto(self, b):
            k = min(len(b), self.n); b[:k] = bytes(k); self.n -= k; return k
    t.addfile(info, io.BufferedReader(Zeros(info.size)))
info = tarfile.TarInfo("cifar-10-batches-bin/data_batch_1.bin")
info.size = 3 * 10**9
with gzip.open(os.path.join(www, "huge-member.tar.gz"), "wb") as g:
    g.write(info.tobuf(format=tarfile.GNU_FORMAT))
    g.write(bytes(1 << 20))
# a member that is not extracted but would still be decompressed: 600 MB
info = tarfile.TarInfo("cifar-10-batches-bin/readme.html")
info.size = 600 * 10**6
with gzip.open(os.path.join(www, "expand.tar.gz"), "wb") as g:
    g.write(info.tobuf(format=tarfile.GNU_FORMAT))
    g.write(bytes(1 << 20))
PY
BIG_MD5=$(md5sum "$WWW/big-member.tar.gz" | cut -d' ' -f1)
HUGE_MD5=$(md5sum "$WWW/huge-member.tar.gz" | cut -d' ' -f1)
DB=$TMP/dbig
run "a batch file over 30730000 bytes: refused while extracting, 65" 65 \
  "holds a 'data_batch_1\.bin' of 30730001 bytes, more than 30730000, the size of a CIFAR-10 batch file: refused; the archive was deleted" -- \
  data fetch cifar10 --url "$BASE/big-member.tar.gz" --md5 "$BIG_MD5" --dir "$DB"
check "oversized member: nothing left (no .bin, archive or staging directory)" \
  no_leftovers "$DB"
timed "a member claiming 3 GB: refused on its header, 65" 10 65 \
  "holds a 'data_batch_1\.bin' of 3000000000 bytes, more than 30730000" -- \
  data fetch cifar10 --url "$BASE/huge-member.tar.gz" --md5 "$HUGE_MD5" --dir "$DB"
check "3 GB member: nothing left" no_leftovers "$DB"
EXP_MD5=$(md5sum "$WWW/expand.tar.gz" | cut -d' ' -f1)
timed "other members adding up to 600 MB: refused, 65" 10 65 \
  "cifar-10-binary\.tar\.gz' expands to more than 536870912 bytes \(the CIFAR-10 archive holds about 184 MB\): refused while extracting; the archive was deleted" -- \
  data fetch cifar10 --url "$BASE/expand.tar.gz" --md5 "$EXP_MD5" --dir "$DB"
check "600 MB of other members: nothing left" no_leftovers "$DB"

# ---- a symlink planted at the .part path -----------------------------------------
DS=$TMP/dsym
mkdir -p "$DS"
echo precious >"$TMP/victim"
ln -s "$TMP/victim" "$DS/cifar-10-binary.tar.gz.part"
run "a symlink at the .part path: the download goes to a file of its own" 0 \
  "installed and validated" -- \
  data fetch cifar10 --url "$BASE/x.tar.gz" --md5 "$MD5" --dir "$DS"
check "the symlink's target is unchanged" \
  test "$(cat "$TMP/victim")" = precious
check "no .part and no link left" test ! -e "$DS/cifar-10-binary.tar.gz.part" \
  -a ! -L "$DS/cifar-10-binary.tar.gz.part"

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
