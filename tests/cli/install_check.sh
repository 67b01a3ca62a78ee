#!/usr/bin/env bash
# install_check.sh: greenml as a user installs and links it.
#
#   bash tests/cli/install_check.sh BUILD_DIR SOURCE_DIR
#
# Installs BUILD_DIR into a temporary prefix (cmake --install --prefix), then:
# builds tests/install/meter_only.c against the installed headers with
# `pkg-config --cflags --libs greenml` and runs it on a fake machine (fake
# /proc, empty /sys and /dev); checks with readelf and ldd that it and
# libgreenml.so.0 need none of oneDNN, OpenMP, GSL, libcurl, libarchive and
# OpenSSL, and that libgreenml-exporter.so.0 and greenml-exporter need
# libmicrohttpd and libgreenml only; runs the installed `greenml exporter`
# and scrapes it; builds tests/install/ with find_package(greenml); runs the
# installed greenml; renders the man page; completes with the bash
# completion; loads libgreenml.so.0 from Python's ctypes; runs the installed
# Python package, which finds its own library; installs again
# under DESTDIR. Prints TAP-style lines and a tally; exit 1 when a check
# failed, 2 on bad usage.
#
# The conditions given to `check` are single-quoted on purpose: check
# evaluates them.
# shellcheck disable=SC2016,SC2034
set -u

if [ $# -ne 2 ]; then
  echo "usage: $0 BUILD_DIR SOURCE_DIR" >&2
  exit 2
fi
if ! BUILD=$(cd "$1" && pwd) || ! SRC=$(cd "$2" && pwd); then
  echo "$0: no directory '$1' or '$2'" >&2
  exit 2
fi
for tool in cmake pkg-config readelf ldd nm "${CC:-cc}"; do
  if ! command -v "$tool" >/dev/null; then
    echo "$0: '$tool' is needed" >&2
    exit 2
  fi
done
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3

. "$SRC/tests/cli/lib.sh"
workdir
unset LD_LIBRARY_PATH PKG_CONFIG_PATH GREENML_SYSFS GREENML_PROCFS \
  GREENML_DEVFS GREENML_NVML_LIB GREENML_MARK
HEAVY='dnnl|gomp|gsl|curl|archive|crypto'

# loaded_from BINARY LIB [LD_LIBRARY_PATH]: the file ldd resolves LIB to,
# symbolic links resolved.
loaded_from() {
  local f
  f=$(LD_LIBRARY_PATH=${3-} ldd "$1" | awk -v l="$2" '$1 == l { print $3 }')
  [ -n "$f" ] && realpath "$f"
}

# ---- the install ------------------------------------------------------------
P=$work/prefix
cmake --install "$BUILD" --prefix "$P" >install.log 2>&1
rc=$?
check "cmake --install into a temporary prefix exits 0" '[ $rc -eq 0 ]' \
  "$(tail -3 install.log)"
LIB=$(dirname "$(find "$P" -name libgreenml.so.0 | head -1)")
check "libgreenml.so.0 is installed" '[ -f "$LIB/libgreenml.so.0" ]'
for l in greenml greenml-nn greenml-data greenml-study greenml-exporter; do
  check "lib$l.so -> lib$l.so.0 -> lib$l.so.0.* with SONAME lib$l.so.0" \
    '[ "$(readlink "$LIB/lib$l.so")" = "lib$l.so.0" ] &&
     [ -f "$LIB/lib$l.so.0" ] &&
     readelf -d "$LIB/lib$l.so.0" | grep -q "SONAME.*\[lib$l.so.0\]"'
  check "lib$l exports gm_ symbols and no private gm__ ones" \
    'nm -D --defined-only "$LIB/lib$l.so.0" | grep -q " T gm_" &&
     ! nm -D --defined-only "$LIB/lib$l.so.0" | grep -q " gm__"'
done
check "public headers under include/greenml, no private ones" \
  '[ -f "$P/include/greenml/meter.h" ] && [ -f "$P/include/greenml/status.h" ] &&
   [ -z "$(find "$P/include" -name "*internal*" -o -name util.h)" ]'
check "pkg-config files, CMake package, man page, completion installed" \
  '[ -f "$LIB/pkgconfig/greenml.pc" ] && [ -f "$LIB/pkgconfig/greenml-nn.pc" ] &&
   [ -f "$LIB/pkgconfig/greenml-data.pc" ] &&
   [ -f "$LIB/pkgconfig/greenml-study.pc" ] &&
   [ -f "$LIB/pkgconfig/greenml-exporter.pc" ] &&
   [ -f "$LIB/cmake/greenml/greenmlConfig.cmake" ] &&
   [ -f "$LIB/cmake/greenml/greenmlConfigVersion.cmake" ] &&
   [ -f "$LIB/cmake/greenml/greenmlTargets.cmake" ] &&
   [ -f "$P/share/man/man1/greenml.1" ] &&
   [ -f "$P/share/bash-completion/completions/greenml" ]'

# ---- the installed command ------------------------------------------------
out=$("$P/bin/greenml" --version 2>&1)
rc=$?
VERSION=${out#greenml }
check "installed greenml --version exits 0 and prints 'greenml X.Y.Z'" \
  '[ $rc -eq 0 ] && [[ $out =~ ^greenml\ [0-9]+\.[0-9]+\.[0-9]+$ ]]' "$out"
STUDY_EXE=$P/libexec/greenml/greenml-study
check "installed greenml and greenml-study find their libraries in the prefix, not the build" \
  '[ "$(loaded_from "$P/bin/greenml" libgreenml.so.0)" = "$(realpath "$LIB/libgreenml.so.0")" ] &&
   [ "$(loaded_from "$STUDY_EXE" libgreenml-study.so.0)" = "$(realpath "$LIB/libgreenml-study.so.0")" ] &&
   ! readelf -d "$P/bin/greenml" | grep -q "$BUILD" && ! readelf -d "$STUDY_EXE" | grep -q "$BUILD"'
# The metering command loads the meter's library alone (its start-up is part
# of what it measures); the study's commands run in greenml-study.
needed=$(readelf -d "$P/bin/greenml" | grep NEEDED)
check "installed greenml needs libgreenml only (no nn, study, data, oneDNN, GSL, curl)" \
  '[[ $needed == *libgreenml.so.0* ]] && ! grep -qE "greenml-|dnnl|gomp|gsl|curl|archive|crypto" <<<"$needed"' "$needed"
out=$("$P/bin/greenml" models --model LeNet 2>&1)
rc=$?
check "installed greenml runs a study command through greenml-study" \
  '[ $rc -eq 0 ] && [[ $out == *LeNet*62006* ]]' "$out"

# ---- pkg-config and a meter-only program ------------------------------------
export PKG_CONFIG_PATH=$LIB/pkgconfig
flags=$(pkg-config --cflags --libs greenml 2>&1)
rc=$?
check "pkg-config --cflags --libs greenml" \
  '[ $rc -eq 0 ] && [[ " $flags " == *" -lgreenml "* ]] &&
   [[ $flags == *-I* ]] && [[ $flags != *greenml-* ]]' "$flags"
check "pkg-config --modversion greenml is the installed version" \
  '[ "$(pkg-config --modversion greenml)" = "$VERSION" ]'
study=$(pkg-config --libs greenml-study 2>&1)
check "pkg-config greenml-study requires greenml-nn and greenml" \
  '[[ $study == *-lgreenml-study* && $study == *-lgreenml-nn* &&
     " $study " == *" -lgreenml "* ]]' "$study"
exp=$(pkg-config --libs greenml-exporter 2>&1)
check "pkg-config greenml-exporter requires greenml alone" \
  '[[ $exp == *-lgreenml-exporter* && " $exp " == *" -lgreenml "* &&
     $exp != *greenml-nn* && $exp != *greenml-study* ]]' "$exp"
data=$(pkg-config --libs greenml-data 2>&1)
check "pkg-config greenml-data requires greenml-nn" \
  '[[ $data == *-lgreenml-data* && $data == *-lgreenml-nn* ]]' "$data"

# shellcheck disable=SC2086 # pkg-config's output is a list of words
"${CC:-cc}" -std=c11 -Wall -Wextra -Werror -o meter_only \
  "$SRC/tests/install/meter_only.c" $flags >cc.log 2>&1
rc=$?
check "meter_only.c builds against the installed headers and libgreenml" \
  '[ $rc -eq 0 ]' "$(head -c 300 cc.log)"

M=$work/machine
mkdir -p "$M/proc" "$M/sys" "$M/dev"
printf 'cpu  100 0 100 800 0 0 0 0 0 0\ncpu0 100 0 100 800 0 0 0 0 0 0\n' \
  >"$M/proc/stat"
printf 'MemTotal:       16777216 kB\nMemAvailable:    8388608 kB\n' \
  >"$M/proc/meminfo"
printf 'processor\t: 0\nmodel name\t: Test CPU\n' >"$M/proc/cpuinfo"
GREENML_SYSFS=$M/sys GREENML_PROCFS=$M/proc GREENML_DEVFS=$M/dev \
  LD_LIBRARY_PATH=$LIB ./meter_only "$work/meter.db" >meter.out 2>meter.err
rc=$?
check "meter_only exits 0" '[ $rc -eq 0 ]' "$(head -c 300 meter.err)"
# The fake machine: one CPU not in the TDP table (85 W per socket), 16 GiB
# and no DIMM data (0.375 W/GiB: 6 W).
py_check "meter_only: cpu modelled with energy > 0 (at most 85 W x duration), dram 6 W x duration, schema > 0" '
rows = {}
for line in open(args[0]):
    f = line.split()
    rows[f[0]] = f[1:]
dur = float(rows["duration_s"][0])
want(0.25 < dur < 5, "duration %r" % dur)
cpu = rows.get("cpu")
want(cpu is not None and cpu[0] == "modelled", "cpu %r" % cpu)
if cpu:
    e = float(cpu[1])
    want(0 < e <= 85 * dur + 1e-9, "cpu energy %r J over %r s" % (e, dur))
dram = rows.get("dram")
want(dram is not None and dram[0] == "modelled", "dram %r" % dram)
if dram:
    want(close(float(dram[1]), 6.0 * dur, rel=1e-6), "dram %r J, want %r" % (dram[1], 6 * dur))
want(int(rows["schema"][0]) > 0, "schema %r" % rows["schema"])
' "$work/meter.out"
check "meter_only created its database" '[ -s "$work/meter.db" ]'

needed() { readelf -d "$1" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | tr '\n' ' '; }
n=$(needed meter_only)
check "meter_only NEEDED: libgreenml.so.0, none of $HEAVY or the other greenml libraries" \
  '[[ $n == *libgreenml.so.0* ]] && ! grep -Eq "$HEAVY|greenml-" <<<"$n"' "$n"
closure=$(LD_LIBRARY_PATH=$LIB ldd ./meter_only 2>&1)
check "meter_only loads none of $HEAVY (ldd)" \
  '[ "$(loaded_from ./meter_only libgreenml.so.0 "$LIB")" = "$(realpath "$LIB/libgreenml.so.0")" ] &&
   ! grep -Eq "$HEAVY|not found" <<<"$closure"' \
  "$(tr '\n' ' ' <<<"$closure")"
n=$(needed "$LIB/libgreenml.so.0")
check "libgreenml.so.0 NEEDED: neither libpq (loaded at run time by a postgresql:// store) nor $HEAVY" \
  '! grep -q libpq <<<"$n"' "$n"
check "libgreenml.so.0 NEEDED: none of $HEAVY" \
  '[[ $n == *libsqlite3* ]] && ! grep -Eq "$HEAVY" <<<"$n"' "$n"
closure=$(ldd "$LIB/libgreenml.so.0" 2>&1)
check "libgreenml.so.0 loads none of $HEAVY (ldd)" \
  '! grep -Eq "$HEAVY|not found" <<<"$closure"' "$(tr '\n' ' ' <<<"$closure")"
n=$(needed "$LIB/libgreenml-nn.so.0")
check "libgreenml-nn.so.0 NEEDED: none of gsl, curl, archive, crypto" \
  '! grep -Eq "gsl|curl|archive|crypto" <<<"$n"' "$n"
n=$(needed "$LIB/libgreenml-study.so.0")
check "libgreenml-study.so.0 NEEDED: gsl, none of curl, archive, crypto" \
  '[[ $n == *libgsl* ]] && ! grep -Eq "curl|archive|crypto" <<<"$n"' "$n"
n=$(needed "$LIB/libgreenml-exporter.so.0")
check "libgreenml-exporter.so.0 NEEDED: libmicrohttpd and libgreenml, none of $HEAVY or the other greenml libraries" \
  '[[ $n == *libmicrohttpd* && $n == *libgreenml.so.0* ]] &&
   ! grep -Eq "$HEAVY|greenml-" <<<"$n"' "$n"
EXP_EXE=$P/libexec/greenml/greenml-exporter
n=$(needed "$EXP_EXE")
check "installed greenml-exporter NEEDED: libgreenml and libgreenml-exporter only (no nn, study, data, $HEAVY)" \
  '[[ $n == *libgreenml.so.0* && $n == *libgreenml-exporter.so.0* ]] &&
   ! grep -Eq "$HEAVY|greenml-(nn|data|study)" <<<"$n" &&
   [ "$(loaded_from "$EXP_EXE" libgreenml-exporter.so.0)" = "$(realpath "$LIB/libgreenml-exporter.so.0")" ]' "$n"
# the installed `greenml exporter` (run through greenml-exporter) on the fake
# machine: serves a scrape, stops on SIGTERM with 0
GREENML_SYSFS=$M/sys GREENML_PROCFS=$M/proc GREENML_DEVFS=$M/dev \
  GREENML_NVML_LIB=/nonexistent/libnvidia-ml.so.1 \
  "$P/bin/greenml" exporter --listen 127.0.0.1:0 --idle none 2>exporter.err &
exp_pid=$!
port=
for ((i = 0; i < 100; i++)); do
  port=$(sed -n 's|^greenml exporter: serving http://127\.0\.0\.1:\([0-9]*\)/.*|\1|p' exporter.err)
  [ -n "$port" ] && break
  sleep 0.1
done
got=$([ -n "$port" ] && "$PY" -c '
import sys, urllib.request
r = urllib.request.urlopen("http://127.0.0.1:%s/metrics" % sys.argv[1], timeout=10)
print(r.status, [l for l in r.read().decode().splitlines() if l.startswith("greenml_power_watts{component=\"dram\"")])' "$port" 2>&1)
kill -TERM "$exp_pid" 2>/dev/null
wait "$exp_pid"
rc=$?
check "installed greenml exporter serves the fake machine's DRAM model and exits 0 on SIGTERM" \
  '[ $rc -eq 0 ] && [[ $got == "200 ["*"greenml_power_watts{component=\"dram\""* ]]' \
  "exit $rc, '$got': $(cat exporter.err)"

# ---- find_package(greenml) ------------------------------------------------
cmake -S "$SRC/tests/install" -B fp -DCMAKE_PREFIX_PATH="$P" >fp.log 2>&1 &&
  cmake --build fp >>fp.log 2>&1
rc=$?
check "a CMake project with find_package(greenml COMPONENTS nn exporter) builds" \
  '[ $rc -eq 0 ]' "$(tail -5 fp.log | tr '\n' ' ')"
zoo=$(./fp/zoo 2>&1)
rc=$?
check "it runs on the installed libraries (version, status, the zoo)" \
  '[ $rc -eq 0 ] && grep -qx "version $VERSION" <<<"$zoo" &&
   grep -qx "status success" <<<"$zoo" && grep -qx "model LeNet" <<<"$zoo" &&
   [ "$(grep -c "^model " <<<"$zoo")" -ge 16 ]' "$(head -c 200 <<<"$zoo")"
check "it links libgreenml.so.0 of the prefix" \
  '[ "$(loaded_from ./fp/zoo libgreenml.so.0)" = "$(realpath "$LIB/libgreenml.so.0")" ]'
out=$(./fp/render 2>&1)
rc=$?
check "greenml::exporter: a snapshot rendered by the installed libgreenml-exporter" \
  '[ $rc -eq 0 ] && grep -q "^greenml_energy_joules_total{component=\"dram\",.*} 42\$" <<<"$out" &&
   [ "$(loaded_from ./fp/render libgreenml-exporter.so.0)" = "$(realpath "$LIB/libgreenml-exporter.so.0")" ]' \
  "$(head -c 300 <<<"$out")"
mkdir -p fp-bad
cat >fp-bad/CMakeLists.txt <<'EOF'
cmake_minimum_required(VERSION 3.20)
project(greenml_bad LANGUAGES C)
find_package(greenml 0.1 QUIET COMPONENTS nosuch)
if(greenml_FOUND)
  message(FATAL_ERROR "an unknown component was accepted")
endif()
find_package(greenml 99 QUIET)
if(greenml_FOUND)
  message(FATAL_ERROR "version 99 was accepted")
endif()
EOF
check "find_package refuses an unknown component and a wrong version" \
  'cmake -S fp-bad -B fp-bad/b -DCMAKE_PREFIX_PATH="$P" >fp-bad.log 2>&1' \
  "$(tail -3 fp-bad.log 2>/dev/null | tr '\n' ' ')"

# ---- man page ---------------------------------------------------------------
MAN1=$P/share/man/man1/greenml.1
commands=$("$P/bin/greenml" --help | sed -n 's/^  \([a-z]\+\) .*/\1/p')
if command -v man >/dev/null; then
  MANWIDTH=80 man --warnings -l "$MAN1" >man.out 2>man.err
  rc=$?
  check "man -l renders the installed page without warnings" \
    '[ $rc -eq 0 ] && [ ! -s man.err ] && grep -q "EXIT STATUS" man.out' \
    "$(head -c 300 man.err)"
elif command -v groff >/dev/null; then
  groff -man -Tutf8 -ww "$MAN1" >man.out 2>man.err
  rc=$?
  check "groff renders the installed page without warnings" \
    '[ $rc -eq 0 ] && [ ! -s man.err ]' "$(head -c 300 man.err)"
else
  ok "# SKIP man page rendering: neither man nor groff is installed"
  : >man.out
fi
missing=""
for c in $commands; do
  grep -Eq "^ +greenml +$c( |$)" man.out || missing="$missing $c"
done
check "the man page has a section for each of the $(wc -w <<<"$commands") commands of 'greenml --help'" \
  '[ -s man.out ] && [ -z "$missing" ]' "missing:$missing"
missing=""
for w in GREENML_SYSFS GREENML_PROCFS GREENML_DEVFS GREENML_NVML_LIB \
  GREENML_MARK 64 65 66 69 70 73 74; do
  grep -q "$w" man.out || missing="$missing $w"
done
check "the man page has the environment variables and exit codes" \
  '[ -z "$missing" ]' "missing:$missing"
check "the man page is that of greenml $VERSION" \
  'grep -q "greenml $VERSION" man.out'

# ---- bash completion --------------------------------------------------------
COMP=$P/share/bash-completion/completions/greenml
# complete WORDS...: what the completion offers for the last word.
complete_words() {
  PATH=$P/bin:$PATH bash -c '
    . "$0" || exit 1
    COMP_WORDS=("$@")
    COMP_CWORD=$(($# - 1))
    _greenml
    printf "%s\n" "${COMPREPLY[@]}"' "$COMP" "$@"
}
check "the completion file sources and registers greenml" \
  'bash -c ". \"\$0\" && complete -p greenml" "$COMP" >/dev/null 2>&1'
got=$(complete_words greenml mea 2>&1)
check "'greenml mea<TAB>' completes to 'measure'" '[ "$got" = measure ]' "$got"
got=$(complete_words greenml train --model Res 2>&1 | tr '\n' ' ')
check "'greenml train --model Res<TAB>' offers the zoo's ResNet18" \
  '[[ " $got " == *" ResNet18 "* ]]' "$got"
# Every flag in an option line of each command's --help is offered.
missing=""
for c in $commands; do
  case $c in
  data)
    for s in fetch synth check; do
      words=(greenml data "$s")
      [ "$s" = fetch ] && words+=(cifar10)
      offered=" $(complete_words "${words[@]}" -- | tr '\n' ' ') "
      for f in $("$P/bin/greenml" data "$s" --help |
        sed -n 's/^ \+\(--[a-z][a-z0-9-]*\).*/\1/p'); do
        [[ $offered == *" $f "* ]] || missing="$missing data-$s:$f"
      done
    done
    ;;
  *)
    offered=" $(complete_words greenml "$c" -- | tr '\n' ' ') "
    for f in $("$P/bin/greenml" "$c" --help |
      sed -n 's/^ \+\(--[a-z][a-z0-9-]*\).*/\1/p'); do
      [[ $offered == *" $f "* ]] || missing="$missing $c:$f"
    done
    ;;
  esac
done
check "the completion offers every flag of every command's --help" \
  '[ -z "$missing" ]' "missing:$missing"

# ---- ctypes -----------------------------------------------------------------
got=$("$PY" -c '
import ctypes, sys
lib = ctypes.CDLL(sys.argv[1])
lib.gm_status_str.restype = ctypes.c_char_p
lib.gm_status_str.argtypes = [ctypes.c_int]
print(lib.gm_status_str(0).decode())' "$LIB/libgreenml.so.0" 2>&1)
check "python3 ctypes loads libgreenml.so.0 and calls gm_status_str" \
  '[ "$got" = success ]' "$got"

# ---- the Python package -----------------------------------------------------
# pypkg ROOT: runs the installed package found under ROOT (no GREENML_LIB:
# it must find its own library through _paths.py) on the fake machine;
# prints the library it loaded and the run's duration and energy.
pypkg() {
  local init site
  init=$(find "$1" -path '*/dist-packages/greenml/__init__.py' | head -1)
  [ -n "$init" ] || { echo "no greenml/__init__.py under $1"; return; }
  site=$(dirname "$(dirname "$init")")
  env -u GREENML_LIB PYTHONPATH="$site" GREENML_SYSFS="$M/sys" \
    GREENML_PROCFS="$M/proc" GREENML_DEVFS="$M/dev" \
    GREENML_NVML_LIB=/nonexistent/libnvidia-ml.so.1 "$PY" -c '
import os, time, greenml
from greenml import _lib
with greenml.Meter(db=False, interval="10ms") as m:
    time.sleep(0.05)
print(os.path.realpath(_lib.path), m.result.duration_s > 0.04,
      m.result.total_energy_j > 0)' 2>&1
}
got=$(pypkg "$P")
check "the installed Python package loads the installed libgreenml.so.0 and measures" \
  '[ "$got" = "$(realpath "$LIB/libgreenml.so.0") True True" ]' "$got"
check "the package is installed with its _paths.py and the PyTorch helpers" \
  '[ -n "$(find "$P" -path "*/dist-packages/greenml/_paths.py")" ] &&
   [ -n "$(find "$P" -path "*/dist-packages/greenml/pytorch.py")" ]'

# ---- DESTDIR ----------------------------------------------------------------
DESTDIR=$work/stage cmake --install "$BUILD" --prefix /opt/greenml \
  >destdir.log 2>&1
rc=$?
check "DESTDIR=D cmake --install --prefix /opt/greenml stages under D" \
  '[ $rc -eq 0 ] && [ -x "$work/stage/opt/greenml/bin/greenml" ] &&
   [ -n "$(find "$work/stage/opt/greenml" -name libgreenml.so.0)" ] &&
   ! grep "Installing: " destdir.log | grep -qv "Installing: $work/stage/"' \
  "$(tail -3 destdir.log)"
# the torch engine of the installed command finds the installed worker,
# relative to its library (the tree was installed under another prefix)
if "$PY" -c 'import torch' 2>/dev/null; then
  GREENML_TORCH_DEBUG=1 XDG_CACHE_HOME=$work/cache GREENML_SYSFS="$M/sys" \
    GREENML_PROCFS="$M/proc" GREENML_DEVFS="$M/dev" \
    GREENML_NVML_LIB=/nonexistent/libnvidia-ml.so.1 \
    "$P/bin/greenml" train --engine torch --model LeNet --data synthetic \
    --epochs 1 --limit-batches 2 --batch-size 8 --threads 1 \
    --checkpoint "$work/t.ckpt" >torch.out 2>torch.err
  rc=$?
  worker=$(sed -n 's/^greenml torch worker: //p' torch.err | head -1)
  check "the installed train --engine torch runs the installed worker" \
    '[ $rc -eq 0 ] && [ -n "$worker" ] && case "$worker" in "$P"/*) true ;; *) false ;; esac' \
    "exit $rc, worker '$worker': $(tail -3 torch.err)"
else
  not_ok "python3 has torch (scripts/deps.sh installs python3-torch)"
fi
staged=$(find "$work/stage/opt/greenml" -name libgreenml.so.0 | head -1)
got=$(pypkg "$work/stage/opt/greenml")
check "a staged (moved) tree's Python package loads its own libgreenml.so.0" \
  '[ -n "$staged" ] && [ "$got" = "$(realpath "$staged") True True" ]' "$got"

tap_done install_check
