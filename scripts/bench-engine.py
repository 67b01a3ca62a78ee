#!/usr/bin/python3
"""Throughput and memory of greenml's CNN engine against PyTorch on the same
machine, in one run, each as a fraction of what the machine can do (a
benchmark script, not a test).

For each model: training images/s (forward + backward + SGD step, batch B),
inference images/s (evaluation mode, batch B) and the peak resident memory of
the whole process, for `greenml train` / `greenml infer` (generated data in
the CIFAR-10 format) and for PyTorch CPU (Debian's python3-torch, the models
of scripts/torch_reference.py) with the same thread count, in fp32 and in
bf16 (torch.autocast("cpu", dtype=torch.bfloat16) around the forward pass
and the loss, for training and inference alike). greenml's figures include
its data loading and augmentation; PyTorch's time the model alone on a
prepared tensor, which favours PyTorch slightly. Runs interleave by model:
greenml, PyTorch fp32, PyTorch bf16, then the next model.

Arithmetic rates (modelled from the model's graph, not counted by hardware):
  forward FLOPs per sample  = 2 x MACs   (`greenml models`: convolutions and
                                         linear layers; everything else, batch
                                         norm, activations, pooling, the
                                         optimiser, counts as 0)
  training FLOPs per sample = 3 x forward FLOPs (the forward GEMMs and the
                                         two backward ones, data and weights)
  GFLOP/s = images/s x FLOPs per sample / 1e9.
The fraction of peak divides that by the machine's measured peak for the
same precision at the same thread count: the best of a large f32 (bf16)
matmul and 3x3 convolution timed with oneDNN by bench-roofline
(scripts/bench-roofline.c, built by CMake next to the greenml binary), run
before and after the models (the better of the two is the peak), which also
measures the memory bandwidth (STREAM triad) for the roofline. bf16 runs are
divided by the bf16 peak when the CPU has bf16 arithmetic.

greenml's own bf16 figures appear when `greenml train --help` lists
--precision (then `--precision bf16` is passed to train and infer); until
then the column is left out, not estimated.

Energy (--measure): every run, greenml's and PyTorch's, runs under
`greenml measure --no-db --idle none --quiet --json`, and each phase's
energy is the command's share of it (attributed by CPU time) divided by
the phase's images: J/image, with the meter's provenance (measured where
RAPL or NVML count it, modelled from TDP x utilisation where nothing is
measurable). greenml's phases are its own ("train epoch 1", "infer
samples N", the warm-up batch included); the PyTorch worker marks its
timed loops through the same marker channel (GREENML_MARK).

usage: /usr/bin/python3 scripts/bench-engine.py [--greenml PATH]
         [--roofline PATH] [--models all|A,B] [--batch 128] [--threads 1]
         [--train-batches 3] [--infer-batches 4] [--json FILE] [--measure]
Needs /usr/bin/python3 with torch (apt-get install python3-torch)."""
import argparse
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
PASSIVE = {"OMP_WAIT_POLICY": "PASSIVE"}


def torch_worker(args):
    """Runs in a child process: one model in one precision, prints
    'train ips', 'infer ips', 'rss kB' (a failed phase: 'train_error MSG')."""
    import contextlib
    import torch
    sys.path.insert(0, HERE)
    import torch_reference as ref
    torch.set_num_threads(args.threads)
    torch.manual_seed(1)
    model = ref.build(args.model)
    opt = torch.optim.SGD(model.parameters(), lr=0.001, momentum=0.9,
                          weight_decay=5e-4)
    lossf = torch.nn.CrossEntropyLoss()
    x = torch.randn(args.batch, 3, 32, 32)
    y = torch.randint(0, 10, (args.batch,))

    def cast():
        if args.precision == "bf16":
            return torch.autocast("cpu", dtype=torch.bfloat16)
        return contextlib.nullcontext()

    def step():
        opt.zero_grad()
        with cast():
            loss = lossf(model(x), y)
        loss.backward()
        opt.step()

    def forward():
        with cast():
            model(x)

    mark = os.environ.get("GREENML_MARK")

    def marker(line):
        """A phase marker for `greenml measure` (include/greenml/mark.h)."""
        if not mark:
            return
        fd = os.open(mark, os.O_WRONLY | os.O_NONBLOCK)
        try:
            os.write(fd, line.encode())
        finally:
            os.close(fd)

    def rate(fn, n, phase):
        fn()  # warm-up
        marker("B %d %s\n" % (time.clock_gettime_ns(time.CLOCK_MONOTONIC),
                              phase))
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        dt = time.perf_counter() - t0
        marker("E %d\n" % time.clock_gettime_ns(time.CLOCK_MONOTONIC))
        return args.batch * n / dt

    out = []
    model.train()
    try:
        out.append("train %.3f" % rate(step, args.train_batches, "train"))
    except Exception as e:  # reported, never hidden
        out.append("train_error %s" % " ".join(str(e).split())[:200])
    model.eval()
    try:
        with torch.no_grad():
            out.append("infer %.3f" % rate(forward, args.infer_batches, "infer"))
    except Exception as e:
        out.append("infer_error %s" % " ".join(str(e).split())[:200])
    out.append("rss %d" % resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
    print("\n".join(out))


def measured(gm, a, work, cmd):
    """cmd under `greenml measure` when --measure: the command and the path
    of its JSON summary (None otherwise)."""
    if not a.measure:
        return cmd, None
    fd, path = tempfile.mkstemp(suffix=".json", dir=work)
    os.close(fd)
    return [gm, "measure", "--no-db", "--idle", "none", "--quiet", "--json",
            path, "--"] + cmd, path


def phase_energy(path, prefix, images, res, key):
    """J/image of the phase whose name starts with prefix, from measure's
    JSON summary: the command's share where attributed, else the total."""
    if not path:
        return
    with open(path) as f:
        doc = json.load(f)
    for ph in doc.get("phases", []):
        if ph["name"].startswith(prefix):
            e = ph.get("attributed_energy_j")
            if e is None:
                e = ph.get("energy_j")
            if e is not None:
                res[key + "_j"] = e / images
                res["provenance"] = ph.get("provenance", "")
            return


def run_greenml(gm, model, a, work, extra):
    env = dict(os.environ, XDG_CACHE_HOME=os.path.join(work, "cache"),
               **PASSIVE)
    ck = os.path.join(work, model + ".ckpt")

    def timed(cmd):
        out = subprocess.run(["/usr/bin/time", "-f", "rss %M"] + cmd,
                             capture_output=True, text=True, env=env,
                             check=False)
        if out.returncode != 0:
            raise RuntimeError("%s: %s" % (" ".join(cmd), out.stderr[-400:]))
        rss = int(re.search(r"rss (\d+)", out.stderr).group(1))
        return out.stdout, rss

    # one warm-up batch more than timed; the epoch line covers all batches
    cmd, jt = measured(gm, a, work, [
        gm, "train", "--model", model, "--data", "synthetic", "--batch-size",
        str(a.batch), "--threads", str(a.threads), "--epochs", "1",
        "--limit-batches", str(a.train_batches + 1), "--checkpoint", ck] +
        extra)
    tr, rss_t = timed(cmd)
    train_ips = float(re.search(r"([0-9.]+) images/s", tr).group(1))
    cmd, ji = measured(gm, a, work, [
        gm, "infer", "--model", model, "--data", "synthetic", "--batch-size",
        str(a.batch), "--threads", str(a.threads), "--samples",
        str(a.batch * (a.infer_batches + 1))] + extra)
    inf, rss_i = timed(cmd)
    infer_ips = float(re.search(r"([0-9.]+) images/s", inf).group(1))
    res = {"train": train_ips, "infer": infer_ips,
           "rss_kb": max(rss_t, rss_i)}
    phase_energy(jt, "train", a.batch * (a.train_batches + 1), res, "train")
    phase_energy(ji, "infer", a.batch * (a.infer_batches + 1), res, "infer")
    return res


def run_torch(gm, model, a, work, precision):
    cmd, jpath = measured(gm, a, work, [
        sys.executable, os.path.abspath(__file__), "--torch-worker",
        "--models", model, "--batch", str(a.batch), "--threads",
        str(a.threads), "--train-batches", str(a.train_batches),
        "--infer-batches", str(a.infer_batches), "--precision", precision])
    out = subprocess.run(cmd, capture_output=True, text=True, check=False,
                         env=dict(os.environ, **PASSIVE))
    r = {}
    for line in out.stdout.strip().splitlines():
        k, _, v = line.partition(" ")
        r[k] = v
    if out.returncode != 0 or "rss" not in r:
        msg = " ".join(out.stderr.split())[-200:] or "exit %d" % out.returncode
        return {"train_error": msg, "infer_error": msg}
    res = {"rss_kb": int(r["rss"])}
    for ph in ("train", "infer"):
        if ph in r:
            res[ph] = float(r[ph])
        else:
            res[ph + "_error"] = r.get(ph + "_error", "no figure")
    phase_energy(jpath, "train", a.batch * a.train_batches, res, "train")
    phase_energy(jpath, "infer", a.batch * a.infer_batches, res, "infer")
    return res


def roofline(path, threads):
    out = subprocess.run([path, "--threads", str(threads), "--seconds", "1"],
                         capture_output=True, text=True, check=True,
                         env=dict(os.environ, **PASSIVE))
    doc = json.loads(out.stdout)
    row = [r for r in doc["roofline"] if r["threads"] == threads][0]
    return doc, row


def greenml_precisions(gm):
    """greenml's precisions: bf16 only once train and infer take it."""
    helps = [subprocess.run([gm, c, "--help"], capture_output=True,
                            text=True, check=False).stdout
             for c in ("train", "infer")]
    if all("--precision" in h for h in helps):
        return ["fp32", "bf16"]
    return ["fp32"]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--greenml", default="build/release/greenml")
    p.add_argument("--roofline", default=None,
                   help="bench-roofline (default: next to --greenml)")
    p.add_argument("--models", default="all")
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--train-batches", type=int, default=3)
    p.add_argument("--infer-batches", type=int, default=4)
    p.add_argument("--json", default=None, help="write every figure here")
    p.add_argument("--precision", default="fp32", choices=["fp32", "bf16"])
    p.add_argument("--measure", action="store_true",
                   help="run each under `greenml measure`: J/image")
    p.add_argument("--torch-worker", action="store_true")
    a = p.parse_args()
    if a.torch_worker:
        a.model = a.models
        torch_worker(a)
        return 0
    gm = os.path.abspath(a.greenml)
    probe = a.roofline or os.path.join(os.path.dirname(gm), "bench-roofline")
    if not os.access(probe, os.X_OK):
        sys.exit("bench-engine: no bench-roofline at '%s': build the tree "
                 "with oneDNN (make build) or pass --roofline PATH" % probe)
    models = json.loads(subprocess.run([gm, "models", "--json"],
                                       capture_output=True, text=True,
                                       check=True).stdout)
    if a.models != "all":
        want = a.models.lower().split(",")
        models = [m for m in models if m["name"].lower() in want]
    t_start = time.time()
    probes = [roofline(probe, a.threads)]
    print_peak("before", probes[0])
    columns = [("greenml", pr) for pr in greenml_precisions(gm)]
    columns += [("PyTorch", "fp32"), ("PyTorch", "bf16")]
    results = []
    with tempfile.TemporaryDirectory() as work:
        for m in models:
            row = {"model": m["name"], "macs": m["macs"], "runs": {}}
            for eng, pr in columns:
                if eng == "greenml":
                    extra = ["--precision", pr] if pr != "fp32" else []
                    r = run_greenml(gm, m["name"], a, work, extra)
                else:
                    r = run_torch(gm, m["name"], a, work, pr)
                row["runs"]["%s %s" % (eng, pr)] = r
            results.append(row)
            print("  %s: %s" % (m["name"], ", ".join(
                "%s %s/%s images/s" % (k, fmt_ips(v, "train"),
                                       fmt_ips(v, "infer"))
                for k, v in row["runs"].items())), file=sys.stderr,
                flush=True)
    probes.append(roofline(probe, a.threads))
    print_peak("after", probes[1])
    # the machine's peak: the better of the probes before and after
    peak = {k: max((p[1][k] or 0) for p in probes) or None
            for k in ("peak_f32_gflops", "peak_bf16_gflops",
                      "triad_gb_per_s")}
    peaks = {"fp32": peak["peak_f32_gflops"],
             "bf16": peak["peak_bf16_gflops"]}
    doc = probes[0][0]
    print("peak used (best of both): f32 %.1f GFLOP/s, bf16 %s GFLOP/s, "
          "triad %.1f GB/s; ridge point %.1f FLOP/byte (f32)"
          % (peaks["fp32"], "%.1f" % peaks["bf16"] if peaks["bf16"] else
             "n/a", peak["triad_gb_per_s"],
             peaks["fp32"] / peak["triad_gb_per_s"]))
    elapsed = time.time() - t_start
    print("\nbatch %d, %d thread(s); images/s measured; GFLOP/s modelled "
          "from MACs (forward 2 x MACs, training 3 x forward); %% of the "
          "measured peak of the same precision\n" % (a.batch, a.threads))
    for ph, title in (("train", "training"), ("infer", "inference")):
        print_table(results, columns, ph, title, peaks)
    if a.measure:
        print_energy(results, columns)
    print("peak RSS in MiB (whole process)\n")
    print("| model | " + " | ".join("%s %s" % c for c in columns) + " |")
    print("|---|" + "---|" * len(columns))
    for row in results:
        print("| %s | %s |" % (row["model"], " | ".join(
            "%.0f" % (row["runs"]["%s %s" % c]["rss_kb"] / 1024)
            if "rss_kb" in row["runs"]["%s %s" % c] else "-"
            for c in columns)))
    errors = [(row["model"], k, ph, v[ph + "_error"]) for row in results
              for k, v in row["runs"].items() for ph in ("train", "infer")
              if ph + "_error" in v]
    for model, k, ph, msg in errors:
        print("%s, %s, %s failed: %s" % (model, k, ph, msg))
    print("\n(%.0f s in all)" % elapsed)
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"batch": a.batch, "threads": a.threads,
                       "roofline": [p[0] for p in probes],
                       "peaks_gflops": peaks,
                       "models": results, "elapsed_s": elapsed}, f, indent=1)
    return 0


def print_peak(when, probe):
    doc, row = probe
    print("peak at %d thread(s) %s the models, measured by bench-roofline "
          "(oneDNN %s, ISA %s): f32 %.1f GFLOP/s, bf16 %s GFLOP/s, triad "
          "%.1f GB/s" % (row["threads"], when, doc["onednn"], doc["isa"],
                         row["peak_f32_gflops"],
                         "%.1f" % row["peak_bf16_gflops"]
                         if row["peak_bf16_gflops"] else
                         "n/a (no bf16 arithmetic)", row["triad_gb_per_s"]),
          flush=True)


def fmt_ips(r, ph):
    return "%.1f" % r[ph] if ph in r else "fails"


def gflops(macs, ph, ips):
    fwd = 2.0 * macs
    return ips * (3.0 * fwd if ph == "train" else fwd) / 1e9


def print_energy(results, columns):
    provs = sorted({v.get("provenance", "") for row in results
                    for v in row["runs"].values() if v.get("provenance")})
    print("energy: J/image, the command's share by `greenml measure` (%s)\n"
          % ", ".join(provs or ["no phase measured"]))
    print("| model | " + " | ".join(
        "%s %s %s" % (c[0], c[1], ph) for ph in ("train", "infer")
        for c in columns) + " |")
    print("|---|" + "---|" * (2 * len(columns)))
    for row in results:
        cells = []
        for ph in ("train", "infer"):
            for c in columns:
                v = row["runs"]["%s %s" % c].get(ph + "_j")
                cells.append("%.4f" % v if v is not None else "-")
        print("| %s | %s |" % (row["model"], " | ".join(cells)))
    print()


def print_table(results, columns, ph, title, peaks):
    print("%s: images/s, GFLOP/s, %% of peak\n" % title)
    print("| model | GFLOP/image | " + " | ".join(
        "%s %s images/s | GFLOP/s | %% peak" % c for c in columns) + " |")
    print("|---|---|" + "---|---|---|" * len(columns))
    for row in results:
        per = (6.0 if ph == "train" else 2.0) * row["macs"] / 1e9
        cells = []
        for eng, pr in columns:
            r = row["runs"]["%s %s" % (eng, pr)]
            if ph not in r:
                cells += ["fails", "-", "-"]
                continue
            g = gflops(row["macs"], ph, r[ph])
            pk = peaks[pr] or peaks["fp32"]
            cells += ["%.1f" % r[ph], "%.1f" % g, "%.1f" % (100.0 * g / pk)]
        print("| %s | %.3f | %s |" % (row["model"], per, " | ".join(cells)))
    print()


if __name__ == "__main__":
    sys.exit(main())
