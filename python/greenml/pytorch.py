"""PyTorch helpers: phases around a user's own loops.

    import greenml, greenml.pytorch as gp
    with greenml.Meter(tags={"model": "resnet18"}) as m:
        for epoch in gp.epochs(m, 10):
            train_one_epoch(model, loader)          # phase "epoch-1", ...
        with gp.inference(m):                       # phase "inference"
            evaluate(model, test_loader)

Every boundary waits for queued CUDA work first (the Meter's sync, by
default torch.cuda.synchronize when CUDA is in use), so the GPU's energy
falls in the phase that queued it. inference() also switches the model to
eval mode and disables autograd for the block when given the model.
"""

import contextlib


def epochs(meter, n, prefix="epoch", start=1):
    """Yields 0..n-1 (or the items of an iterable), each inside the phase
    "<prefix>-<k>" (k from `start`)."""
    items = range(n) if isinstance(n, int) else n
    for k, item in enumerate(items, start):
        with meter.phase(f"{prefix}-{k}"):
            yield item


@contextlib.contextmanager
def inference(meter, name="inference", model=None):
    """The block as the phase `name`; with `model`, in eval mode under
    torch.inference_mode(), the model's mode restored afterwards."""
    if model is None:
        with meter.phase(name):
            yield meter
        return
    import torch

    was_training = model.training
    model.eval()
    try:
        with meter.phase(name), torch.inference_mode():
            yield meter
    finally:
        model.train(was_training)
