#!/usr/bin/python3
"""proc_cpu.py: the CPU time a process spends, whole and per thread, seen
from outside (standard library only; Linux /proc).

usage: proc_cpu.py [--warmup S] [--json PATH] -- CMD [ARGS...]

Runs CMD and, while it runs, reads /proc/PID/task/*/schedstat (the
scheduler's on-CPU time of each thread, in ns) and /proc/PID/task/*/comm
every POLL seconds. It prints:

  * the steady state: each thread's CPU time between the first reading
    after --warmup seconds and the last reading before the process exits,
    as % of one core over that window, and their sum (the whole process);
  * the whole run: user + system time of CMD from wait4 (which includes
    the children CMD reaped: for `greenml measure -- sleep N` that is the
    sleep, about a millisecond), as % of one core over its wall time.

Threads are named by their comm (greenml names its own: gm-sampler,
gm-writer, gm-marks; the main thread has the program's name); threads that
share a name get #1, #2... in the order they were created.
"""
import json
import os
import subprocess
import sys
import time

POLL = 0.2


def read_tasks(pid):
    """{tid: (comm, on-CPU ns)} for the live threads of pid."""
    out = {}
    base = f"/proc/{pid}/task"
    try:
        tids = os.listdir(base)
    except OSError:
        return out
    for tid in tids:
        try:
            with open(f"{base}/{tid}/schedstat") as f:
                ns = int(f.read().split()[0])
            with open(f"{base}/{tid}/comm") as f:
                comm = f.read().strip()
        except (OSError, ValueError, IndexError):
            continue
        out[int(tid)] = (comm, ns)
    return out


def main(argv):
    warmup = 2.0
    json_path = None
    i = 0
    while i < len(argv) and argv[i] != "--":
        if argv[i] == "--warmup":
            warmup = float(argv[i + 1])
            i += 2
        elif argv[i] == "--json":
            json_path = argv[i + 1]
            i += 2
        else:
            print(__doc__, file=sys.stderr)
            return 2
    cmd = argv[i + 1:]
    if not cmd:
        print(__doc__, file=sys.stderr)
        return 2
    t_start = time.monotonic()
    # subprocess starts CMD with vfork (or posix_spawn): a plain fork would
    # charge CMD for copying this interpreter
    pid = subprocess.Popen(cmd).pid
    first = {}   # tid -> (t, comm, ns): first reading after the warm-up
    last = {}    # tid -> (t, comm, ns): latest reading
    t_first = t_last = None
    status = ru = None
    while True:
        wpid, st, r = os.wait4(pid, os.WNOHANG)
        if wpid == pid:
            status, ru = st, r
            break
        now = time.monotonic()
        tasks = read_tasks(pid)
        if tasks and now - t_start >= warmup:
            if t_first is None:
                t_first = now
            for tid, (comm, ns) in tasks.items():
                first.setdefault(tid, (now, comm, ns))
                last[tid] = (now, comm, ns)
            t_last = now
        time.sleep(POLL)
    wall = time.monotonic() - t_start
    total_s = ru.ru_utime + ru.ru_stime
    res = {
        "command": cmd,
        "wall_s": wall,
        "process_cpu_s": total_s,
        "process_pct": 100.0 * total_s / wall if wall > 0 else 0.0,
        "exit": os.waitstatus_to_exitcode(status),
        "steady_window_s": None,
        "steady_pct": None,
        "threads": {},
    }
    if t_first is not None and t_last is not None and t_last > t_first:
        window = t_last - t_first
        by_name = {}
        whole = 0.0
        seen = {}
        for tid in sorted(last):  # creation order
            t1, comm, ns1 = last[tid]
            t0, _, ns0 = first[tid]
            # a thread born after the window opened counts from its start
            d = ns1 - (ns0 if t0 == t_first else 0)
            # unnamed threads share the program's name: told apart by the
            # order they were created in (the main thread first)
            k = seen[comm] = seen.get(comm, -1) + 1
            name = comm if k == 0 else f"{comm}#{k}"
            by_name[name] = d
            whole += d
        res["steady_window_s"] = window
        res["steady_pct"] = 100.0 * whole / 1e9 / window
        res["threads"] = {
            k: 100.0 * v / 1e9 / window for k, v in sorted(by_name.items())
        }
    if json_path:
        with open(json_path, "w") as f:
            json.dump(res, f, indent=1)
    print(f"whole run: {res['process_cpu_s']:.4f} s CPU in {wall:.3f} s "
          f"= {res['process_pct']:.4f} % of one core (wait4, children "
          f"included)")
    if res["steady_pct"] is not None:
        print(f"steady state ({res['steady_window_s']:.2f} s window): "
              f"{res['steady_pct']:.4f} % of one core")
        for k, v in res["threads"].items():
            print(f"  {k:16s} {v:.4f} %")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
