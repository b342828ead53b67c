"""The NumPy twins of the GPU backend's fused functions: the cross-entropy of a training step
(its reduction and the running loss and accuracy in the same call), the linear layer's
backward (its weight and bias gradients one product on the GPU) and Adam over many tensors
with its step counts in arrays. Each is composed of ``backend/cpu.py``'s functions,
line for line what the CPU did before they existed, so its numbers stay bit for bit the
same. (They live here rather than in cpu.py while that file is being rewritten; the
functions of the same names in ``backend/cuda.py`` are one or two kernel launches each.)
``backend.fused_backend_of`` picks this module or ``backend.cuda``."""
import numpy as np

from . import cpu


def cross_entropy_fwd(logits, target, reduction, stats=None):
    """(loss, lse): the loss reduced by "mean" or "sum", or per sample ("none"), and each
    row's log-sum-exp. ``stats`` (float64, 4 values, or None) gets the batch's mean loss,
    its correct predictions (argmax of the logits = target), its size and 1 added."""
    losses, lse = cpu.softmax_xent_fwd(logits, target)
    out = losses.mean() if reduction == "mean" else losses.sum() if reduction == "sum" \
        else losses
    if stats is not None and len(target):
        correct = np.count_nonzero(logits.argmax(axis=1) == target)
        stats += (float(losses.mean()), correct, len(target), 1)
    return out, lse


def cross_entropy_bwd(g, logits, lse, target, reduction):
    """d loss / d logits from the loss's gradient ``g``: every sample gets the same share of
    a reduced loss's gradient (divided by the batch size for a mean)."""
    if reduction == "none":
        per_sample = g
    else:
        share = g / len(target) if reduction == "mean" else g
        per_sample = np.broadcast_to(share, target.shape)
    return cpu.softmax_xent_bwd(per_sample, logits, lse, target)


def linear_bwd(g, x, weight, needs):
    """(dx, dw, db) of y = x @ Wᵀ + b, each None unless asked for:
    dx = g @ W,  dW = gᵀ @ x,  db = Σ_B g."""
    need_x, need_w, need_b = needs
    dx = cpu.gemm(g, weight) if need_x else None
    dw = cpu.gemm(g, x, trans_a=True) if need_w else None
    db = cpu.bias_grad(g.reshape(g.shape[0], g.shape[1], 1)) if need_b else None
    return dx, dw, db


def adam_multi(params, grads, exp_avgs, exp_avg_sqs, steps, lr, beta1, beta2, eps,
               weight_decay):
    """Adam on each tensor in turn (cpu.adam_step), each step count (a 0-d float64 array)
    advanced first."""
    for p, g, m, v, t in zip(params, grads, exp_avgs, exp_avg_sqs, steps):
        t += 1
        cpu.adam_step(p, g, m, v, int(t), lr, beta1, beta2, eps, weight_decay)
