#!/usr/bin/env bash
# system_reads.sh: what greenml reads from the system is bounded and typed:
# --dmidecode refuses a device, a FIFO and an oversized file at once;
# MemTotal out of range makes the DRAM model unusable with the reason; a
# garbage or frozen /proc/stat makes the utilisation unknown (the CPU model's
# readings fail and are counted) instead of a silent 0 J. Every run is under
# `timeout 10`.
# usage: system_reads.sh GREENML
set -u
GM=$(readlink -f "$1")
. "$(dirname "$0")/lib.sh"
workdir
unset GREENML_MARK GREENML_SYSFS GREENML_PROCFS GREENML_DEVFS
export GREENML_NVML_LIB=/nonexistent/libnvidia-ml.so.1

# gm NAME ARGS...: runs greenml under a 10 s timeout; NAME.out holds stdout
# and stderr, RC the status, MS the milliseconds it took.
gm() {
  local name=$1 t0 t1
  shift
  t0=$(date +%s%N)
  timeout 10 "$GM" "$@" </dev/null >"$name.out" 2>&1
  RC=$?
  t1=$(date +%s%N)
  MS=$(((t1 - t0) / 1000000))
}

# ---- --dmidecode: a regular file of at most 16 MiB -------------------------
gm zero sources --dmidecode /dev/zero
check "--dmidecode /dev/zero: exit 64 at once (${MS} ms)" \
  "[ $RC -eq 64 ] && [ $MS -lt 5000 ]" "exit $RC: $(cat zero.out)"
check "--dmidecode /dev/zero: says it is a device" \
  "grep -q \"^greenml sources: --dmidecode '/dev/zero' is a character device, not a regular file; save the output first: sudo dmidecode -t memory > dimms.txt\$\" zero.out" \
  "$(cat zero.out)"
mkfifo dimms.fifo
gm fifo measure --no-db --dmidecode dimms.fifo -- true
check "--dmidecode FIFO: exit 64 at once (${MS} ms), nothing run" \
  "[ $RC -eq 64 ] && [ $MS -lt 5000 ]" "exit $RC: $(cat fifo.out)"
check "--dmidecode FIFO: says it is a FIFO" \
  "grep -q \"^greenml measure: --dmidecode 'dimms.fifo' is a FIFO, not a regular file\" fifo.out" \
  "$(cat fifo.out)"
truncate -s $((16 * 1024 * 1024 + 1)) big.txt
gm big sources --dmidecode big.txt
check "--dmidecode of 16 MiB + 1: exit 64, the limit named" \
  "[ $RC -eq 64 ] && grep -q \"^greenml sources: --dmidecode 'big.txt' is 16777217 bytes, more than the 16777216 bytes (16 MiB) a \" big.out" \
  "exit $RC: $(cat big.out)"

# ---- a fake machine: procfs with a bad MemTotal, then a frozen /proc/stat ----
mkdir -p fake/proc fake/sys fake/dev
printf 'processor\t: 0\nmodel name\t: Test CPU\nphysical id\t: 0\n' >fake/proc/cpuinfo
printf 'cpu  100 0 100 800 0 0 0 0 0 0\ncpu0 100 0 100 800 0 0 0 0 0 0\n' >fake/proc/stat
printf 'MemTotal:       -16000000 kB\nMemAvailable:   10 kB\n' >fake/proc/meminfo
export GREENML_PROCFS=$work/fake/proc GREENML_SYSFS=$work/fake/sys \
  GREENML_DEVFS=$work/fake/dev
gm neg sources
check "MemTotal -16000000 kB: sources exits 0" "[ $RC -eq 0 ]" "exit $RC: $(cat neg.out)"
check "MemTotal -16000000 kB: the DRAM model is unusable, the reason named" \
  "grep -q '^dram-model     unusable (malformed data)' neg.out && grep -q \"why:    no DIMM data and MemTotal in '$work/fake/proc/meminfo' is '-16000000 kB', not a memory size (1 kB to 64 TiB): the DRAM model refuses to guess\" neg.out" \
  "$(cat neg.out)"
check "MemTotal -16000000 kB: no DRAM component (not 6.6e12 W), DRAM listed missing" \
  "! grep -q '^  dram .*modelled' neg.out && grep -q '^  dram         dram  -              MISSING: not measured      (a total without it is partial)' neg.out" "$(cat neg.out)"
printf 'MemTotal:       99999999999999 kB\nMemAvailable:   10 kB\n' >fake/proc/meminfo
gm huge sources
check "MemTotal of 93 PiB: refused the same way" \
  "grep -q \"MemTotal in '.*' is '99999999999999 kB', not a memory size\" huge.out" \
  "$(cat huge.out)"

printf 'MemTotal:       1048576 kB\nMemAvailable:   10 kB\n' >fake/proc/meminfo
# frozen: the counters never move while the command runs for a second
gm frozen measure --no-db --cpu-tdp 50 --json frozen.json -- sleep 1
check "frozen /proc/stat: measure exits 0" "[ $RC -eq 0 ]" "exit $RC: $(cat frozen.out)"
py_check "frozen /proc/stat: the CPU model's readings fail and are counted, no power made up" '
d = json.load(open(args[0]))
cpu = [c for c in d["components"] if c["name"] == "cpu"][0]
want(cpu["source"] == "cpu-tdp-model", "source %r" % cpu["source"])
want(cpu["read_errors"] >= 5, "read_errors %r" % cpu["read_errors"])
want(cpu["energy_j"] == 0, "energy %r" % cpu["energy_j"])
' frozen.json
check "frozen /proc/stat: the summary says the CPU could not be read" \
  "grep -Eq 'warning: cpu could not be read [0-9]+ times' frozen.out" "$(cat frozen.out)"
# garbage from the start: procfs unusable, with the reason
printf '\001\002 garbage\n' >fake/proc/stat
gm garbage sources
check "garbage /proc/stat: procfs unusable, named" \
  "grep -q '^procfs         unusable (malformed data)' garbage.out && grep -q \"cannot parse '$work/fake/proc/stat': no cpu lines\" garbage.out" \
  "$(cat garbage.out)"
rm fake/proc/stat
mkfifo fake/proc/stat
gm statfifo sources
check "/proc/stat a FIFO: refused at once (${MS} ms)" \
  "[ $MS -lt 5000 ] && grep -q \"cannot read '$work/fake/proc/stat': a FIFO, not a regular file\" statfifo.out" \
  "exit $RC: $(cat statfifo.out)"

tap_done system_reads
