#!/usr/bin/python3
"""Throughput and memory of greenml's CNN engine against PyTorch on the same
machine, in one run (a benchmark script, not a test).

For each model: training images/s (forward + backward + SGD step, batch B),
inference images/s (evaluation mode, batch B) and the peak resident memory of
the whole process, for `greenml train` / `greenml infer` (generated data in
the CIFAR-10 format) and for PyTorch CPU (Debian's python3-torch, the models
of scripts/torch_reference.py) with the same thread count. greenml's figures
include its data loading and augmentation; PyTorch's time the model alone on
a prepared tensor, which favours PyTorch slightly.

usage: /usr/bin/python3 scripts/bench-engine.py [--greenml PATH]
         [--models all|A,B] [--batch 128] [--threads 1] [--train-batches 3]
         [--infer-batches 4]
Needs /usr/bin/python3 with torch (apt-get install python3-torch)."""
import argparse
import os
import re
import resource
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def torch_worker(args):
    """Runs in a child process: one model, prints 'train ips', 'infer ips',
    'rss kB'."""
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
    model.train()

    def step():
        opt.zero_grad()
        loss = lossf(model(x), y)
        loss.backward()
        opt.step()

    step()  # warm-up
    t0 = time.perf_counter()
    for _ in range(args.train_batches):
        step()
    train_ips = args.batch * args.train_batches / (time.perf_counter() - t0)
    model.eval()
    with torch.no_grad():
        model(x)
        t0 = time.perf_counter()
        for _ in range(args.infer_batches):
            model(x)
        infer_ips = args.batch * args.infer_batches / (time.perf_counter() - t0)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print("train %.3f\ninfer %.3f\nrss %d" % (train_ips, infer_ips, rss))


def run_greenml(gm, model, a, work):
    env = dict(os.environ, XDG_CACHE_HOME=os.path.join(work, "cache"),
               OMP_WAIT_POLICY="PASSIVE")
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
    tr, rss_t = timed([gm, "train", "--model", model, "--data", "synthetic",
                       "--batch-size", str(a.batch), "--threads",
                       str(a.threads), "--epochs", "1", "--limit-batches",
                       str(a.train_batches + 1), "--checkpoint", ck])
    train_ips = float(re.search(r"([0-9.]+) images/s", tr).group(1))
    inf, rss_i = timed([gm, "infer", "--model", model, "--data", "synthetic",
                        "--batch-size", str(a.batch), "--threads",
                        str(a.threads), "--samples",
                        str(a.batch * (a.infer_batches + 1))])
    infer_ips = float(re.search(r"([0-9.]+) images/s", inf).group(1))
    return train_ips, infer_ips, max(rss_t, rss_i)


def run_torch(model, a):
    cmd = [sys.executable, os.path.abspath(__file__), "--torch-worker",
           "--models", model, "--batch", str(a.batch), "--threads",
           str(a.threads), "--train-batches", str(a.train_batches),
           "--infer-batches", str(a.infer_batches)]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True,
                         env=dict(os.environ, OMP_WAIT_POLICY="PASSIVE"))
    v = dict(line.split() for line in out.stdout.strip().splitlines())
    return float(v["train"]), float(v["infer"]), int(v["rss"])


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--greenml", default="build/release/greenml")
    p.add_argument("--models", default="all")
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--train-batches", type=int, default=3)
    p.add_argument("--infer-batches", type=int, default=4)
    p.add_argument("--torch-worker", action="store_true")
    a = p.parse_args()
    if a.torch_worker:
        a.model = a.models
        torch_worker(a)
        return 0
    gm = os.path.abspath(a.greenml)
    models = subprocess.run([gm, "models", "--json"], capture_output=True,
                            text=True, check=True).stdout
    names = re.findall(r'"name":"([^"]+)"', models)
    if a.models != "all":
        names = [n for n in names if n.lower() in a.models.lower().split(",")]
    print("batch %d, %d thread(s); images/s (higher is better), peak RSS in "
          "MiB (lower is better)\n" % (a.batch, a.threads))
    print("| model | train greenml | train PyTorch | ratio | infer greenml "
          "| infer PyTorch | ratio | RSS greenml | RSS PyTorch |")
    print("|---|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as work:
        for n in names:
            gt, gi, grss = run_greenml(gm, n, a, work)
            tt, ti, trss = run_torch(n, a)
            print("| %s | %.1f | %.1f | %.2f | %.1f | %.1f | %.2f | %.0f | %.0f |"
                  % (n, gt, tt, gt / tt, gi, ti, gi / ti, grss / 1024,
                     trss / 1024), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
