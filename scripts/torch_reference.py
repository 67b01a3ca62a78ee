#!/usr/bin/env python3
"""PyTorch reference for greenml's CNN engine.

The C engine must reproduce the sixteen CIFAR-10 networks of the
kuangliu/pytorch-cifar collection exactly: the same layers, the same parameter
tensors in the same order (so that a state_dict of either loads into the
other), the same forward computation. This file defines those sixteen networks
independently and derives from them the figures the C side is checked
against.

Usage (Debian's python3 with python3-torch):

    /usr/bin/python3 scripts/torch_reference.py characteristics \
        --out tests/fixtures/torch_models.json
    /usr/bin/python3 scripts/torch_reference.py golden    # tests/fixtures/golden_*

Every network takes a N x 3 x 32 x 32 float tensor and returns N x 10 logits.
docs/models.md describes each architecture in prose for the C implementers.
"""

import argparse
import importlib.util
import json
import math
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

# The networks live in the Python package (python/greenml/models.py), loaded
# by path so that this script needs torch alone, not libgreenml.
_spec = importlib.util.spec_from_file_location(
    "greenml_models",
    os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python",
                 "greenml", "models.py"))
_models = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_models)
INPUT_SHAPE = _models.INPUT_SHAPE
NUM_CLASSES = _models.NUM_CLASSES
MODELS = _models.MODELS
build = _models.build


# ---------------------------------------------------------------------------
# characteristics: parameter/buffer sizes and MACs
# ---------------------------------------------------------------------------

MACS_DEFINITION = (
    "MACs are counted with forward hooks during one forward pass of a 1x3x32x32 input "
    "in eval mode. Each nn.Conv2d call contributes C_out*H_out*W_out * (C_in/groups) * "
    "kh * kw; each nn.Linear call contributes in_features * out_features. Nothing else "
    "is counted: no bias additions, batch norm, activations, pooling, concatenation, "
    "channel shuffle or element-wise arithmetic (residual adds, SE scaling). A conv "
    "that exists but is not run (EfficientNetB0 layers.0.conv1) contributes nothing."
)

FIELDS_DEFINITION = {
    "params": "sum of numel() over model.parameters()",
    "trainable_params": "sum of numel() over parameters with requires_grad",
    "param_bytes": "sum of numel()*element_size() over parameters (all float32)",
    "buffer_bytes": ("sum of numel()*element_size() over model.buffers(): per BatchNorm2d "
                     "running_mean and running_var (float32) and num_batches_tracked "
                     "(int64, 8 bytes)"),
    "size_bytes": "param_bytes + buffer_bytes",
    "macs": "see macs_definition",
    "macs_per_param": "macs / params",
    "layers": "parameter tensors in model.named_parameters() order, as [name, shape]",
    "out_shapes": ("every nn.Conv2d / nn.Linear call in forward order, as [module name, "
                   "output shape without the batch dimension, MACs of that call]"),
}


def characterise(name):
    model = build(name)
    model.eval()

    calls = []
    names = {}

    def hook(module, inputs, output):
        per_sample = list(output.shape[1:])
        if isinstance(module, nn.Conv2d):
            kh, kw = module.kernel_size
            macs = output[0].numel() * (module.in_channels // module.groups) * kh * kw
        else:
            macs = module.in_features * module.out_features
        calls.append([names[module], per_sample, macs])

    handles = []
    for mname, module in model.named_modules():
        if isinstance(module, (nn.Conv2d, nn.Linear)):
            names[module] = mname
            handles.append(module.register_forward_hook(hook))
    with torch.no_grad():
        out = model(torch.zeros(1, *INPUT_SHAPE))
    for h in handles:
        h.remove()
    if tuple(out.shape) != (1, NUM_CLASSES):
        raise RuntimeError("%s: output shape %s" % (name, tuple(out.shape)))

    params = list(model.parameters())
    n_params = sum(p.numel() for p in params)
    param_bytes = sum(p.numel() * p.element_size() for p in params)
    buffer_bytes = sum(b.numel() * b.element_size() for b in model.buffers())
    macs = sum(c[2] for c in calls)
    return {
        "name": name,
        "params": n_params,
        "trainable_params": sum(p.numel() for p in params if p.requires_grad),
        "param_bytes": param_bytes,
        "buffer_bytes": buffer_bytes,
        "size_bytes": param_bytes + buffer_bytes,
        "macs": macs,
        "macs_per_param": macs / n_params,
        "layers": [[n, list(p.shape)] for n, p in model.named_parameters()],
        "out_shapes": calls,
    }


def _is_leafish(v):
    """A scalar, or a list nesting at most scalars and lists of scalars."""
    if not isinstance(v, (list, dict)):
        return True
    if isinstance(v, dict):
        return False
    return all(not isinstance(x, (list, dict)) or
               (isinstance(x, list) and all(not isinstance(y, (list, dict)) for y in x))
               for x in v)


def to_json(v, depth=0):
    """Deterministic JSON: sorted keys, one line per layer entry, so that the
    fixture diffs line by line."""
    pad = "  " * (depth + 1)
    if isinstance(v, dict):
        if not v:
            return "{}"
        items = ["%s%s: %s" % (pad, json.dumps(k), to_json(v[k], depth + 1))
                 for k in sorted(v)]
        return "{\n" + ",\n".join(items) + "\n" + "  " * depth + "}"
    if isinstance(v, list) and v and not _is_leafish(v):
        items = [pad + to_json(x, depth + 1) for x in v]
        return "[\n" + ",\n".join(items) + "\n" + "  " * depth + "]"
    return json.dumps(v, sort_keys=True, separators=(", ", ": "))


def cmd_characteristics(args):
    torch.manual_seed(0)
    models = [characterise(n) for n, _ in MODELS]
    doc = {
        "meta": {
            "generator": "scripts/torch_reference.py characteristics",
            "torch_version": torch.__version__,
            "input_shape": [1] + list(INPUT_SHAPE),
            "num_classes": NUM_CLASSES,
            "reference": "kuangliu/pytorch-cifar models/ (commit 49b7aa97b0c1)",
            "macs_definition": MACS_DEFINITION,
            "fields": FIELDS_DEFINITION,
        },
        "models": models,
    }
    text = to_json(doc) + "\n"
    assert json.loads(text) == doc
    if args.out == "-":
        sys.stdout.write(text)
    else:
        d = os.path.dirname(args.out)
        if d:
            os.makedirs(d, exist_ok=True)
        with open(args.out, "w", encoding="utf-8") as f:
            f.write(text)
    if not args.quiet:
        w = max(len(m["name"]) for m in models)
        print("%-*s %12s %12s %14s" % (w, "model", "params", "buffer_bytes", "macs"),
              file=sys.stderr)
        for m in models:
            print("%-*s %12d %12d %14d" % (w, m["name"], m["params"], m["buffer_bytes"],
                                           m["macs"]), file=sys.stderr)
    return 0


def args_characteristics(p):
    p.add_argument("--out", required=True,
                   help="JSON file to write ('-' for standard output)")
    p.add_argument("--quiet", action="store_true",
                   help="do not print the summary table on standard error")


# ---------------------------------------------------------------------------
# golden: fixed weights and input, logits and one SGD step (docs/models.md,
# "Golden checks")
# ---------------------------------------------------------------------------

GOLDEN_MODELS = ("LeNet", "ResNet18")
GOLDEN_N = 4
GOLDEN_LABELS = (3, 7, 0, 9)
GOLDEN_SGD = {"lr": 0.1, "momentum": 0.9, "weight_decay": 5e-4}
GOLDEN_SAMPLES = 8

GOLDEN_FORMULA = {
    "index": ("j: the tensor's 0-based index in named_parameters() order (parameters) "
              "or named_buffers() order (running statistics; num_batches_tracked "
              "counts); i: flat row-major element index; all arithmetic in double, "
              "rounded to float32 once"),
    "conv_linear_weight": "s * sin(0.731*i + 0.001*i*i + 1.37*j + 0.5), s = "
                          "1/sqrt(fan_in), fan_in = size(1) * kernel area",
    "conv_linear_bias": "s * cos(0.53*i + 0.001*i*i + 1.37*j), s of the layer's weight",
    "bn_weight": "1 + 0.1 * sin(0.29*i + j)",
    "bn_bias": "0.1 * cos(0.41*i + j)",
    "running_mean": "0.05 * sin(0.17*i + j)",
    "running_var": "1 + 0.2 * sin(0.11*i + j)^2",
    "input": "x[i] = sin(0.013*i + 0.001*i*i) * 1.5, N x 3 x 32 x 32 flat",
    "evaluation_order": ("left to right, every product and sum rounded to double "
                         "(no fused multiply-add): ((0.731*i + (0.001*i)*i) + "
                         "1.37*j) + 0.5"),
    "labels": list(GOLDEN_LABELS),
    "sequence": ("eval forward -> logits_eval; train forward -> logits_train (running "
                 "statistics updated), loss_train = mean cross-entropy; backward -> "
                 "grad; SGD step (lr 0.1, momentum 0.9, weight_decay 5e-4, PyTorch "
                 "semantics) -> after_step; eval forward -> logits_after_step_eval"),
    "samples": ("'first': elements 0..min(8, numel)-1; 'at': [i, value] for k = 0..7, "
                "i = splitmix64_mix((8*j + k + 1) * 0x9E3779B97F4A7C15 mod 2^64) mod "
                "numel"),
}


def golden_param_kinds(model):
    """name -> (kind, fan_in) for every parameter."""
    kinds = {}
    for mname, m in model.named_modules():
        prefix = mname + "." if mname else ""
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            w = m.weight
            fan_in = w.size(1) * (math.prod(w.shape[2:]) if w.dim() > 2 else 1)
            kinds[prefix + "weight"] = ("weight", fan_in)
            if m.bias is not None:
                kinds[prefix + "bias"] = ("bias", fan_in)
        elif isinstance(m, nn.BatchNorm2d):
            kinds[prefix + "weight"] = ("bn_weight", 0)
            kinds[prefix + "bias"] = ("bn_bias", 0)
    return kinds


def golden_values(kind, j, n, fan_in=0):
    """The golden fill of one tensor as a float64 tensor (not yet rounded)."""
    sin, cos = math.sin, math.cos
    if kind == "weight":
        s = 1.0 / math.sqrt(fan_in)
        v = [s * sin(0.731 * i + 0.001 * i * i + 1.37 * j + 0.5) for i in range(n)]
    elif kind == "bias":
        s = 1.0 / math.sqrt(fan_in)
        v = [s * cos(0.53 * i + 0.001 * i * i + 1.37 * j) for i in range(n)]
    elif kind == "bn_weight":
        v = [1 + 0.1 * sin(0.29 * i + j) for i in range(n)]
    elif kind == "bn_bias":
        v = [0.1 * cos(0.41 * i + j) for i in range(n)]
    elif kind == "running_mean":
        v = [0.05 * sin(0.17 * i + j) for i in range(n)]
    elif kind == "running_var":
        v = []
        for i in range(n):
            t = sin(0.11 * i + j)
            v.append(1 + 0.2 * (t * t))
    elif kind == "input":
        v = [sin(0.013 * i + 0.001 * i * i) * 1.5 for i in range(n)]
    else:
        raise ValueError(kind)
    return torch.tensor(v, dtype=torch.float64)


def golden_fill(model):
    """Fills parameters and running statistics in place (float32 rounding of
    the float64 formula); returns [(j, name, kind, fan_in)]."""
    kinds = golden_param_kinds(model)
    info = []
    with torch.no_grad():
        for j, (name, p) in enumerate(model.named_parameters()):
            kind, fan_in = kinds[name]
            p.copy_(golden_values(kind, j, p.numel(), fan_in).float().view_as(p))
            info.append((j, name, kind, fan_in))
        for j, (name, b) in enumerate(model.named_buffers()):
            leaf = name.rsplit(".", 1)[-1]
            if leaf in ("running_mean", "running_var"):
                b.copy_(golden_values(leaf, j, b.numel()).float().view_as(b))
            elif leaf == "num_batches_tracked":
                b.zero_()
            else:
                raise ValueError("unexpected buffer %r" % name)
    return info


def golden_bits(t):
    """Sum of the float32 bit patterns as signed int32: an exact checksum."""
    return int(t.detach().float().contiguous().view(torch.int32).to(torch.int64).sum())


def golden_positions(j, n):
    """8 pseudo-random flat indices for tensor j (splitmix64's mixer)."""
    mask = 0xFFFFFFFFFFFFFFFF
    out = []
    for k in range(GOLDEN_SAMPLES):
        z = ((8 * j + k + 1) * 0x9E3779B97F4A7C15) & mask
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & mask
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & mask
        out.append((z ^ (z >> 31)) % n)
    return out


def golden_summary(j, t):
    flat = t.detach().reshape(-1)
    d = flat.double()
    pos = golden_positions(j, flat.numel())
    return {
        "numel": flat.numel(),
        "sum": float(d.sum()),
        "sumsq": float((d * d).sum()),
        "sumabs": float(d.abs().sum()),
        "first": flat[:GOLDEN_SAMPLES].tolist(),
        "at": [[i, float(flat[i])] for i in pos],
    }


def golden_run(model, x, labels):
    """The golden sequence on a filled model (any dtype)."""
    out = {}
    model.eval()
    with torch.no_grad():
        out["logits_eval"] = model(x)
    model.train()
    logits = model(x)
    loss = F.cross_entropy(logits, labels)
    out["logits_train"] = logits.detach()
    out["loss_train"] = loss.detach()
    opt = torch.optim.SGD(model.parameters(), **GOLDEN_SGD)
    opt.zero_grad()
    loss.backward()
    out["grads"] = [p.grad.detach().clone() for p in model.parameters()]
    out["stats"] = [(name, b.detach().clone()) for name, b in model.named_buffers()]
    opt.step()
    out["params"] = [p.detach().clone() for p in model.parameters()]
    model.eval()
    with torch.no_grad():
        out["logits_after_step_eval"] = model(x)
    return out


def golden_f32_error(r32, r64):
    """How far PyTorch's own float32 run is from the same run in float64."""
    def max_abs(a, b):
        return float((a.double() - b).abs().max())

    def rel_rms(pairs):
        worst = 0.0
        for a, b in pairs:
            rms = float(b.pow(2).mean().sqrt())
            if rms > 0:
                worst = max(worst, float((a.double() - b).abs().max()) / rms)
        return worst

    def sum_rel(pairs):
        worst = 0.0
        for a, b in pairs:
            scale = float(b.abs().sum())
            if scale > 0:
                worst = max(worst, abs(float(a.double().sum()) - float(b.sum())) / scale)
        return worst

    e = {}
    for k in ("logits_eval", "logits_train", "logits_after_step_eval"):
        e[k + "_max_abs"] = max_abs(r32[k], r64[k])
        e[k + "_max_logit"] = float(r64[k].abs().max())
    e["loss_train_rel"] = abs(float(r32["loss_train"]) - float(r64["loss_train"])) / \
        abs(float(r64["loss_train"]))
    e["grad_max_abs_over_rms"] = rel_rms(zip(r32["grads"], r64["grads"]))
    e["grad_sum_err_over_sumabs"] = sum_rel(zip(r32["grads"], r64["grads"]))
    e["after_step_max_abs_over_rms"] = rel_rms(zip(r32["params"], r64["params"]))
    stats = [(a, b) for (_, a), (_, b) in zip(r32["stats"], r64["stats"])
             if a.is_floating_point()]
    e["stats_max_abs_over_rms"] = rel_rms(stats)
    return e


def golden(name):
    torch.manual_seed(0)
    model = build(name)
    info = golden_fill(model)
    x = golden_values("input", 0, GOLDEN_N * math.prod(INPUT_SHAPE)).float()
    x = x.view(GOLDEN_N, *INPUT_SHAPE)
    labels = torch.tensor(GOLDEN_LABELS, dtype=torch.int64)
    init = [p.detach().clone() for p in model.parameters()]
    init_stats = [b.detach().clone() for b in model.buffers()]
    m64 = build(name).double()
    with torch.no_grad():
        for p, q in zip(m64.parameters(), init):
            p.copy_(q.double())
        for b, q in zip(m64.buffers(), init_stats):
            b.copy_(q)
    r64 = golden_run(m64, x.double(), labels)
    r = golden_run(model, x, labels)

    params = []
    for (j, pname, kind, fan_in), p0, g, p1 in zip(info, init, r["grads"], r["params"]):
        params.append({
            "index": j,
            "name": pname,
            "kind": kind,
            "shape": list(p0.shape),
            "fan_in": fan_in,
            "init_bits": golden_bits(p0),
            "grad": golden_summary(j, g),
            "after_step": golden_summary(j, p1),
        })
    stats = []
    for b, (bname, t) in enumerate(r["stats"]):
        if t.is_floating_point():
            s = golden_summary(b, t)
            s["index"] = b
            s["name"] = bname
            stats.append(s)
    return {
        "meta": {
            "generator": "scripts/torch_reference.py golden",
            "torch_version": torch.__version__,
            "formula": GOLDEN_FORMULA,
            "sgd": GOLDEN_SGD,
            "float32_error": golden_f32_error(r, r64),
            "float32_error_note": ("PyTorch's float32 run against the same run in "
                                   "float64 (same float32 initial values): the "
                                   "scale of float32 rounding in this computation"),
        },
        "model": name,
        "labels": list(GOLDEN_LABELS),
        "input_bits": golden_bits(x),
        "logits_eval": r["logits_eval"].tolist(),
        "logits_train": r["logits_train"].tolist(),
        "loss_train": float(r["loss_train"]),
        "logits_after_step_eval": r["logits_after_step_eval"].tolist(),
        "params": params,
        "running_stats_after_train_forward": stats,
    }


def golden_text(doc):
    """The same fixture as 'key value...' lines for the C test (floats %.9g
    round-trip float32, sums %.17g)."""
    f9 = lambda v: "%.9g" % v
    f17 = lambda v: "%.17g" % v

    def row(key, vals):
        return " ".join([key] + list(vals))

    def flat(rows):
        return [v for r in rows for v in r]

    def summary(lines, key, idx, s):
        lines.append(row(key, [str(idx), str(s["numel"]), f17(s["sum"]), f17(s["sumsq"]),
                               f17(s["sumabs"])]))
        lines.append(row(key + "_first", [str(idx)] + [f9(v) for v in s["first"]]))
        lines.append(row(key + "_at", [str(idx)] + ["%d %s" % (i, f9(v))
                                                    for i, v in s["at"]]))

    lines = [
        "# golden check fixture for %s: scripts/torch_reference.py golden "
        "(docs/models.md, Golden checks); do not edit" % doc["model"],
        "# torch %s" % doc["meta"]["torch_version"],
        "# summaries: <key> <index> <numel> <sum> <sumsq> <sumabs>; <key>_first <index> "
        "<8 values>; <key>_at <index> <8 pairs: flat index, value>",
    ]
    for k, v in sorted(doc["meta"]["float32_error"].items()):
        lines.append(row("f32_error", [k, "%.3e" % v]))
    lines.append(row("model", [doc["model"]]))
    lines.append(row("labels", [str(v) for v in doc["labels"]]))
    lines.append(row("input_bits", [str(doc["input_bits"])]))
    for k in ("logits_eval", "logits_train"):
        lines.append(row(k, [f9(v) for v in flat(doc[k])]))
    lines.append(row("loss_train", [f9(doc["loss_train"])]))
    lines.append(row("logits_after_step_eval",
                     [f9(v) for v in flat(doc["logits_after_step_eval"])]))
    for p in doc["params"]:
        lines.append(row("param", [str(p["index"]), p["name"], p["kind"],
                                   str(p["fan_in"]), str(p["init_bits"])]))
        summary(lines, "grad", p["index"], p["grad"])
        summary(lines, "after", p["index"], p["after_step"])
    for s in doc["running_stats_after_train_forward"]:
        lines.append(row("stat_name", [str(s["index"]), s["name"]]))
        summary(lines, "stat", s["index"], s)
    return "\n".join(lines) + "\n"


def cmd_golden(args):
    torch.set_num_threads(1)
    for name in GOLDEN_MODELS:
        doc = golden(name)
        text = to_json(doc) + "\n"
        assert json.loads(text) == doc
        base = os.path.join(args.dir, "golden_%s" % name.lower())
        os.makedirs(args.dir, exist_ok=True)
        with open(base + ".json", "w", encoding="utf-8") as f:
            f.write(text)
        with open(base + ".txt", "w", encoding="utf-8") as f:
            f.write(golden_text(doc))
        if not args.quiet:
            e = doc["meta"]["float32_error"]
            print("%-9s loss %.6f  float32 vs float64: logits %.2e, grad/rms %.2e" %
                  (name, doc["loss_train"], e["logits_train_max_abs"],
                   e["grad_max_abs_over_rms"]), file=sys.stderr)
    return 0


def args_golden(p):
    p.add_argument("--dir", default="tests/fixtures",
                   help="directory for golden_<model>.json and golden_<model>.txt")
    p.add_argument("--quiet", action="store_true",
                   help="do not print the summary on standard error")


# name -> (one-line help, argument setup, handler)
COMMANDS = {
    "characteristics": ("parameter/buffer sizes, MACs and layer shapes of the 16 models",
                        args_characteristics, cmd_characteristics),
    "golden": ("fixed weights and input: logits and one SGD step of LeNet and ResNet18",
               args_golden, cmd_golden),
}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, (help_text, setup, handler) in COMMANDS.items():
        p = sub.add_parser(name, help=help_text)
        setup(p)
        p.set_defaults(handler=handler)
    args = parser.parse_args(argv)
    return args.handler(args)


if __name__ == "__main__":
    sys.exit(main())
