#!/usr/bin/env python3
"""Checks `greenml models --json --params` against the PyTorch fixture
tests/fixtures/torch_models.json (made by scripts/torch_reference.py with
Debian's python3-torch): for every model of the study, the counts (params,
trainable params, parameter, buffer and model bytes, MACs) must be equal and
the parameters must have the same names and shapes.

usage: models_check.py GREENML FIXTURE"""
import json
import subprocess
import sys

STUDY = ["LeNet", "VGG16", "ResNet18", "PreActResNet18", "GoogLeNet",
         "DenseNet121", "ResNeXt29_2x64d", "MobileNet", "MobileNetV2", "DPN26",
         "ShuffleNetV2", "SENet18", "EfficientNetB0", "RegNetX_200MF",
         "SimpleDLA", "PNASNetB"]
COUNTS = ["params", "trainable_params", "param_bytes", "buffer_bytes",
          "size_bytes", "macs"]


def main():
    greenml, fixture_path = sys.argv[1], sys.argv[2]
    with open(fixture_path) as f:
        fixture = json.load(f)
    ref = {m["name"]: m for m in fixture["models"]}
    out = subprocess.run([greenml, "models", "--json", "--params"],
                         capture_output=True, text=True, check=False)
    passed = failed = 0

    def report(ok, what, why=""):
        nonlocal passed, failed
        if ok:
            passed += 1
            print("ok - " + what)
        else:
            failed += 1
            print("not ok - %s (%s)" % (what, why))

    report(out.returncode == 0, "greenml models exits 0",
           "exit %d: %s" % (out.returncode, out.stderr.strip()))
    ours = {m["name"]: m for m in json.loads(out.stdout or "[]")}
    report(sorted(ours) == sorted(STUDY), "the zoo holds the 16 models",
           "missing %s, extra %s" % (sorted(set(STUDY) - set(ours)),
                                     sorted(set(ours) - set(STUDY))))
    for name in STUDY:
        if name not in ours or name not in ref:
            report(False, name, "absent from %s" %
                   ("greenml" if name not in ours else "the fixture"))
            continue
        a, b = ours[name], ref[name]
        diff = ["%s %d != %d" % (k, a[k], b[k]) for k in COUNTS if a[k] != b[k]]
        report(not diff, "%s: counts equal PyTorch's" % name, "; ".join(diff))
        pa = {n: tuple(s) for n, s in a["parameters"]}
        pb = {n: tuple(s) for n, s in b["layers"]}
        missing = sorted(set(pb) - set(pa))
        extra = sorted(set(pa) - set(pb))
        shape = sorted(n for n in set(pa) & set(pb) if pa[n] != pb[n])
        report(not (missing or extra or shape),
               "%s: %d parameters with PyTorch's names and shapes"
               % (name, len(pb)),
               "missing %s; extra %s; shape differs %s"
               % (missing[:3], extra[:3], shape[:3]))
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
