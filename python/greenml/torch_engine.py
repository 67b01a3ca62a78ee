"""The PyTorch engine of greenml's training protocol (train.h), as a worker
process driven by libgreenml-nn (src/train/torch.c).

greenml's protocol stays in C, the one copy: the data order, augmentation,
batches, learning-rate schedule, timing, phases and the meter. This worker
executes the steps with PyTorch: the C side writes each batch (n x 3 x 32 x
32 float32, then n int32 labels) into a shared memory file inherited as file
descriptor 3, sends one command line on stdin and reads one answer line on
stdout. So both engines compute on the same inputs, and the energy measured
around a step is the step's.

Commands (one line each; the answer is "ok ..." or "error MESSAGE"):
    create MODEL BATCH SEED THREADS DEVICE MOMENTUM WEIGHT_DECAY
        -> ok DEVICE TORCH_VERSION
    init                      -> ok     (parameters from torch.manual_seed(SEED))
    train N LR                -> ok LOSS CORRECT   (one SGD step on the batch)
    infer N                   -> ok LOSS CORRECT   (evaluation mode, no grad)
    save EPOCH PATH           -> ok     (parameters, buffers, momentum, epoch;
                                         atomically)
    load PATH                 -> ok EPOCH MODEL SEED
    quit
LOSS is the batch's mean cross-entropy, CORRECT the number of right
answers. The paper's optimiser: torch.optim.SGD(lr, momentum, weight_decay).

Run by path (python3 torch_engine.py): it imports models.py beside it, not
the greenml package, so it needs torch alone.
"""

import importlib.util
import mmap
import os
import sys
import traceback

PIXELS = 3 * 32 * 32


def load_models():
    here = os.path.dirname(os.path.abspath(__file__))
    spec = importlib.util.spec_from_file_location(
        "greenml_models", os.path.join(here, "models.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


class Worker:
    def __init__(self, out):
        self.out = out
        self.model = None
        self.shm = None

    def reply(self, text):
        self.out.write(text + "\n")
        self.out.flush()

    def sync(self):
        if self.device.type == "cuda":
            self.torch.cuda.synchronize()

    def cmd_create(self, args):
        name, batch, seed, threads, device, momentum, wd = args[:7]
        precision = args[7] if len(args) > 7 else "fp32"
        import torch

        self.torch = torch
        self.models = load_models()
        self.name = name
        self.batch = int(batch)
        self.seed = int(seed)
        self.momentum = float(momentum)
        self.weight_decay = float(wd)
        if int(threads) > 0:
            torch.set_num_threads(int(threads))
        if device == "auto":
            device = "cuda" if torch.cuda.is_available() else "cpu"
        if device == "cuda" and not torch.cuda.is_available():
            raise RuntimeError("device cuda asked for, but PyTorch sees no CUDA "
                               "device (torch.cuda.is_available() is False)")
        self.device = torch.device(device)
        # bf16: forward and loss under autocast (float32 master weights, the
        # backward pass and SGD outside it, as torch's mixed precision is
        # meant to be used); fp32: autocast is not entered at all
        if precision not in ("fp32", "bf16"):
            raise RuntimeError("precision %r is not fp32 or bf16" % precision)
        self.bf16 = precision == "bf16"
        if name not in dict(self.models.MODELS):
            raise RuntimeError("no model %r in the PyTorch zoo" % name)
        size = self.batch * (PIXELS * 4 + 4)
        self.shm = mmap.mmap(3, size)
        self.build()
        return "%s %s" % (self.device.type, torch.__version__)

    def build(self):
        torch = self.torch
        torch.manual_seed(self.seed)
        self.model = self.models.build(self.name).to(self.device)
        self.build_optimizer()

    def build_optimizer(self):
        self.opt = self.torch.optim.SGD(self.model.parameters(), lr=0.001,
                                        momentum=self.momentum,
                                        weight_decay=self.weight_decay)

    def autocast(self):
        return self.torch.autocast(self.device.type,
                                   dtype=self.torch.bfloat16,
                                   enabled=self.bf16)

    def cmd_init(self, args):
        self.build()
        return ""

    def batch_of(self, n):
        torch = self.torch
        if not 0 < n <= self.batch:
            raise RuntimeError("batch of %d outside 1 .. %d" % (n, self.batch))
        x = torch.frombuffer(self.shm, dtype=torch.float32, count=n * PIXELS)
        y = torch.frombuffer(self.shm, dtype=torch.int32, count=n,
                             offset=self.batch * PIXELS * 4)
        x = x.view(n, 3, 32, 32).to(self.device)
        y = y.to(self.device, dtype=torch.long)
        return x, y

    def cmd_train(self, args):
        n, lr = int(args[0]), float(args[1])
        x, y = self.batch_of(n)
        for g in self.opt.param_groups:
            g["lr"] = lr
        self.model.train()
        self.opt.zero_grad(set_to_none=True)
        with self.autocast():
            logits = self.model(x)
            loss = self.torch.nn.functional.cross_entropy(logits, y)
        loss.backward()
        self.opt.step()
        correct = int((logits.detach().argmax(1) == y).sum())
        value = float(loss.detach())
        self.sync()
        return "%.9g %d" % (value, correct)

    def cmd_infer(self, args):
        n = int(args[0])
        x, y = self.batch_of(n)
        self.model.eval()
        with self.torch.inference_mode(), self.autocast():
            logits = self.model(x)
            loss = float(self.torch.nn.functional.cross_entropy(logits, y))
            correct = int((logits.argmax(1) == y).sum())
        self.sync()
        return "%.9g %d" % (loss, correct)

    def cmd_save(self, args):
        epoch, path = int(args[0]), " ".join(args[1:])
        tmp = path + ".tmp~"
        try:
            os.unlink(tmp)  # a symlink planted there is removed, not followed
        except FileNotFoundError:
            pass
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW,
                     0o644)
        with os.fdopen(fd, "wb") as f:
            # SGD's state is its momentum buffers: tensors, so that the file
            # loads with weights_only (no floats outside tensors in 1.13)
            bufs = [self.opt.state.get(p, {}).get("momentum_buffer")
                    for p in self.model.parameters()]
            self.torch.save({"format": "greenml-torch 1", "model": self.name,
                             "seed": self.seed, "epoch": epoch,
                             "state": self.model.state_dict(),
                             "momentum": bufs}, f)
            f.flush()
            os.fsync(f.fileno())
        os.rename(tmp, path)
        return ""

    def cmd_load(self, args):
        path = " ".join(args)
        if not os.path.exists(path):
            raise FileNotFoundError("no checkpoint '%s'" % path)
        with open(path, "rb") as f:
            zipped = f.read(4) == b"PK\x03\x04"  # torch.save's zip format
        try:
            # weights_only: tensors and plain containers, never code
            ck = self.torch.load(path, map_location=self.device,
                                 weights_only=True) if zipped else None
        except Exception:
            ck = None
        if not isinstance(ck, dict) or ck.get("format") != "greenml-torch 1":
            raise ValueError("'%s' is not a checkpoint of the PyTorch engine"
                             % path)
        if ck["model"] != self.name:
            raise ValueError("'%s' holds %s, not %s" % (path, ck["model"],
                                                         self.name))
        self.model.load_state_dict(ck["state"])
        self.build_optimizer()
        params = list(self.model.parameters())
        if len(ck["momentum"]) != len(params):
            raise ValueError("'%s' holds %d momentum buffers for %d parameters"
                             % (path, len(ck["momentum"]), len(params)))
        for p, buf in zip(params, ck["momentum"]):
            if buf is not None:
                self.opt.state[p]["momentum_buffer"] = buf.to(self.device)
        return "%d %s %d" % (ck["epoch"], ck["model"], ck["seed"])


def main():
    out = sys.stdout
    # nothing but answers on stdout: stray prints go to stderr
    sys.stdout = sys.stderr
    if os.environ.get("GREENML_TORCH_DEBUG"):
        print("greenml torch worker: %s" % os.path.abspath(__file__),
              file=sys.stderr, flush=True)
    w = Worker(out)
    for line in sys.stdin:
        parts = line.split()
        if not parts:
            continue
        if parts[0] == "quit":
            break
        fn = getattr(w, "cmd_" + parts[0], None)
        try:
            if fn is None:
                raise RuntimeError("unknown command %r" % parts[0])
            extra = fn(parts[1:])
            w.reply("ok" + (" " + extra if extra else ""))
        except FileNotFoundError as e:
            w.reply("notfound %s" % e)
        except Exception as e:  # every failure is an answer, never a hang
            # the answer carries the error; the trace only when asked for
            if os.environ.get("GREENML_TORCH_DEBUG"):
                traceback.print_exc(file=sys.stderr)
            msg = " ".join(str(e).split()) or type(e).__name__
            w.reply("error %s: %s" % (type(e).__name__, msg))


if __name__ == "__main__":
    main()
