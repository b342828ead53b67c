"""The regression and binary-classification losses as functions (re-exported by
``nn.functional``): mse_loss, l1_loss, smooth_l1_loss, huber_loss, binary_cross_entropy,
binary_cross_entropy_with_logits. Each is composed of differentiable Tensor ops, so its
gradient (for the input and the target, as PyTorch gives both) comes from theirs."""
import warnings

import numpy as np

from .. import _dtype
from ..creation import where
from ..tensor import Tensor

REDUCTIONS = ("mean", "sum", "none")


def _reduce(loss, reduction, op):
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    if reduction == "none":
        return loss
    raise ValueError(f"{op}: {reduction} is not a valid value for reduction (expected one of "
                     f"{', '.join(REDUCTIONS)})")


def _pair(op, input, target, broadcast):
    """input and target as float tensors of one dtype. Shapes: PyTorch broadcasts the
    element-wise regression losses with a warning, and refuses different sizes for BCE."""
    if not isinstance(input, Tensor) or not isinstance(target, Tensor):
        raise TypeError(f"{op}: input and target must be Tensors")
    if not _dtype.is_float(input.dtype):
        raise RuntimeError(f"{op}: expected a floating-point input, got {input.dtype}")
    if input.shape != target.shape:
        if not broadcast:
            raise ValueError(f"Using a target size ({target.shape}) that is different to the "
                             f"input size ({input.shape}) is deprecated. Please ensure they "
                             "have the same size.")
        try:
            np.broadcast_shapes(input.shape, target.shape)
        except ValueError:
            raise RuntimeError(f"{op}: the size of input {input.shape} and target "
                               f"{target.shape} cannot be broadcast together") from None
        warnings.warn(f"Using a target size ({target.shape}) that is different to the input "
                      f"size ({input.shape}). This will likely lead to incorrect results due "
                      "to broadcasting. Please ensure they have the same size.", stacklevel=3)
    if target.dtype != input.dtype:
        target = target.to(input.dtype)
    return input, target


def mse_loss(input, target, reduction="mean"):
    """(input − target)², reduced."""
    input, target = _pair("mse_loss", input, target, broadcast=True)
    d = input - target
    return _reduce(d * d, reduction, "mse_loss")


def l1_loss(input, target, reduction="mean"):
    """|input − target|, reduced."""
    input, target = _pair("l1_loss", input, target, broadcast=True)
    return _reduce((input - target).abs(), reduction, "l1_loss")


def smooth_l1_loss(input, target, reduction="mean", beta=1.0):
    """0.5·d²/β where |d| < β, else |d| − 0.5·β (d = input − target); β = 0 is l1_loss."""
    if beta < 0:
        raise RuntimeError("smooth_l1_loss does not support negative values for beta.")
    input, target = _pair("smooth_l1_loss", input, target, broadcast=True)
    d = input - target
    if beta == 0:
        return _reduce(d.abs(), reduction, "smooth_l1_loss")
    ad = d.abs()
    return _reduce(where(ad < beta, 0.5 * d * d / beta, ad - 0.5 * beta), reduction,
                   "smooth_l1_loss")


def huber_loss(input, target, reduction="mean", delta=1.0):
    """0.5·d² where |d| < δ, else δ·(|d| − 0.5·δ): δ · smooth_l1 with β = δ."""
    if delta <= 0:
        raise RuntimeError("huber_loss does not support non-positive values for delta.")
    input, target = _pair("huber_loss", input, target, broadcast=True)
    d = input - target
    ad = d.abs()
    return _reduce(where(ad < delta, 0.5 * d * d, delta * (ad - 0.5 * delta)), reduction,
                   "huber_loss")


def binary_cross_entropy(input, target, weight=None, reduction="mean"):
    """−w·(y·log x + (1 − y)·log(1 − x)) for probabilities x in [0, 1]; each log is
    clamped at −100, as PyTorch does, so x = 0 or 1 gives a finite loss."""
    input, target = _pair("binary_cross_entropy", input, target, broadcast=False)
    if input.device.type == "cpu" and ((input._data < 0) | (input._data > 1)).any():
        raise RuntimeError("all elements of input should be between 0 and 1")
    loss = -(target * input.log().clamp(min=-100) +
             (1 - target) * (1 - input).log().clamp(min=-100))
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction, "binary_cross_entropy")


def binary_cross_entropy_with_logits(input, target, weight=None, reduction="mean",
                                     pos_weight=None):
    """BCE of sigmoid(x), computed stably from the logits x:

        loss = (1 − y)·x + (1 + (p − 1)·y)·softplus(−x),  softplus(−x) = log(1 + e⁻ˣ)
             = max(−x, 0) + log(1 + e^(−|x|))                      (never overflows)

    with p = ``pos_weight`` (1 by default) weighting the positive term; times ``weight``."""
    input, target = _pair("binary_cross_entropy_with_logits", input, target, broadcast=False)
    softplus_neg = (-input).clamp(min=0) + (-input.abs()).exp().log1p()
    if pos_weight is not None:
        loss = (1 - target) * input + (1 + (pos_weight - 1) * target) * softplus_neg
    else:
        loss = (1 - target) * input + softplus_neg
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction, "binary_cross_entropy_with_logits")


def kl_div(input, target, size_average=None, reduce=None, reduction="mean", log_target=False):
    """The Kullback–Leibler divergence of ``input`` (log-probabilities) from ``target``
    (probabilities, or log-probabilities with ``log_target``), pointwise
    target·(log target − input), 0 where target is 0. ``reduction="batchmean"`` divides the
    sum by the batch size (the true KL divergence per sample); "mean" averages over every
    element, with PyTorch's warning that this is not the KL divergence."""
    if size_average is not None or reduce is not None:
        raise NotImplementedError("kl_div: size_average and reduce are deprecated; use "
                                  "reduction=")
    if reduction not in REDUCTIONS + ("batchmean",):
        raise ValueError(f"kl_div: {reduction} is not a valid value for reduction (expected "
                         "one of mean, batchmean, sum, none)")
    input, target = _pair("kl_div", input, target, broadcast=True)
    if log_target:
        loss = target.exp() * (target - input)
    else:
        positive = target > 0                  # xlogy: 0·log 0 is 0, and no NaN gradient
        safe = where(positive, target, 1.0)
        loss = where(positive, target * safe.log(), 0.0) - target * input
    if reduction == "batchmean":
        return loss.sum() / (input.shape[0] if input.ndim else 1)
    if reduction == "mean":
        warnings.warn("reduction: 'mean' divides the total loss by both the batch size and the "
                      "support size.'batchmean' divides only by the batch size, and aligns "
                      "with the KL div math definition.'mean' will be changed to behave the "
                      "same as 'batchmean' in the next major release.", UserWarning,
                      stacklevel=2)
    return _reduce(loss, reduction, "kl_div")
