#!/usr/bin/env python3
"""Measure a PyTorch training loop in-process with greenml, epoch by epoch.

    python3 examples/pytorch_train.py            # in-process meter
    greenml measure -- python3 examples/pytorch_train.py   # the same phases,
                                                 # reported by the outer meter

Needs greenml installed (make install) or GREENML_LIB and PYTHONPATH set to a
build (GREENML_LIB=build/release/libgreenml.so.0 PYTHONPATH=python), and
PyTorch. The model and data are small stand-ins: replace them with yours.
"""

import torch

import greenml
import greenml.pytorch as gp

device = "cuda" if torch.cuda.is_available() else "cpu"
torch.manual_seed(0)
model = torch.nn.Sequential(
    torch.nn.Conv2d(3, 16, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
    torch.nn.Conv2d(16, 32, 3, padding=1), torch.nn.ReLU(), torch.nn.AdaptiveAvgPool2d(1),
    torch.nn.Flatten(), torch.nn.Linear(32, 10)).to(device)
opt = torch.optim.SGD(model.parameters(), lr=0.001, momentum=0.9, weight_decay=5e-4)
x = torch.randn(1024, 3, 32, 32, device=device)
y = torch.randint(0, 10, (1024,), device=device)

# db=None stores the run in greenml's default database (greenml runs lists it);
# phases are synchronised with CUDA at every boundary when CUDA is in use.
with greenml.Meter(interval="100ms", tags={"model": "small-cnn", "device": device}) as m:
    for epoch in gp.epochs(m, 3):
        for i in range(0, len(x), 128):
            opt.zero_grad()
            loss = torch.nn.functional.cross_entropy(model(x[i:i + 128]), y[i:i + 128])
            loss.backward()
            opt.step()
    with gp.inference(m, model=model):
        model(x)

r = m.result
if r is None:  # under `greenml measure`: the outer meter reports the phases
    raise SystemExit(0)
print(r)
for p in r.phases:
    print(f"{p.name:10} {p.duration_s:7.3f} s {p.energy_j:10.3f} J ({p.provenance})")
for c in r.components:
    print(f"{c.name:10} {c.energy_j:10.3f} J  {c.provenance} by {c.signal} ({c.source})")
