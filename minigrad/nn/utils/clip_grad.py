"""Gradient clipping, in place, as PyTorch's ``nn.utils``: by the total norm of all the
gradients, or by value. Both work on the gradients' device without copying a number to the
host (the norm is a tensor; the scale is applied whether or not it is 1)."""
import math

import numpy as np

from ...autograd import no_grad
from ...tensor import Tensor, as_tensor


def _grads(parameters):
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    return [p.grad for p in parameters if p.grad is not None]


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False,
                    foreach=None):
    """Scale all gradients by min(1, max_norm / (‖g‖ + 1e-6)), where ‖g‖ is the norm of all
    of them together (as one long vector; ``norm_type`` p, or inf for the largest |g|).
    Returns ‖g‖ (a 0-d tensor)."""
    grads = _grads(parameters)
    if not grads:
        return as_tensor(np.zeros((), np.float32))
    norm_type = float(norm_type)
    with no_grad():
        if math.isinf(norm_type):
            per = [g.abs().max() for g in grads]
            total = per[0] if len(per) == 1 else _stack(per).max()
        else:
            per = [(g.abs() ** norm_type).sum() for g in grads]
            total = (per[0] if len(per) == 1 else _stack(per).sum()) ** (1.0 / norm_type)
        if error_if_nonfinite and not math.isfinite(total.item()):
            raise RuntimeError(f"The total norm of order {norm_type} for gradients from "
                               "`parameters` is non-finite, so it cannot be clipped. To disable "
                               "this error and scale the gradients by the non-finite norm "
                               "anyway, set `error_if_nonfinite=False`")
        coef = (max_norm / (total + 1e-6)).clamp(max=1.0)
        for g in grads:
            g.mul_(coef.to(g.dtype))
    return total


def clip_grad_value_(parameters, clip_value, foreach=None):
    """Clamp every gradient element into [−clip_value, clip_value], in place."""
    clip_value = float(clip_value)
    with no_grad():
        for g in _grads(parameters):
            g.clamp_(-clip_value, clip_value)


def _stack(values):
    from ...functions import stack
    dt = values[0].dtype
    return stack([v.to(dt) for v in values])
