"""The layers as functions (PyTorch's ``torch.nn.functional``). Each checks its inputs and
says what is wrong in terms of the layer, then calls the op in ``minigrad.ops.layers``."""
from .. import _dtype
from ..arguments import normalize_dim, pair, pool_out_size
from ..autograd import check_same_device
from ..creation import where
from ..ops import layers as ops
from ..tensor import Tensor, as_tensor


def _square(v, name):
    a, b = pair(v, name)
    if a != b:
        raise NotImplementedError(f"{name} {v!r}: minigrad supports the same {name} for "
                                  "height and width only")
    return a


def _check_float(op, *tensors):
    """The layer's tensors (None: an absent bias) share one floating-point dtype and one
    device, or an error says which rule they break."""
    given, dtype = [], None
    for t in tensors:
        if t is not None:
            if t._data.dtype.kind != "f":
                raise TypeError(f"{op}: expected a floating-point tensor, got {t.dtype}")
            given.append(t)
            if dtype is None:
                dtype = t._data.dtype
            elif t._data.dtype != dtype:
                raise TypeError(f"{op}: inputs have different dtypes "
                                f"{sorted({str(g.dtype) for g in tensors if g is not None})}; "
                                "convert them with .float() or .double()")
    check_same_device(op, given)


def _refuse_conv_options(dilation=1, groups=1, padding_mode="zeros"):
    """PyTorch code spells out the defaults (dilation=1, groups=1, padding_mode="zeros");
    minigrad's convolution has only those, so anything else is refused by name."""
    if dilation not in (1, (1, 1)) or groups != 1 or padding_mode != "zeros":
        raise NotImplementedError(
            f"conv2d: minigrad supports dilation=1, groups=1 and padding_mode='zeros' only, "
            f"got dilation={dilation}, groups={groups}, padding_mode={padding_mode!r}")


def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D convolution (cross-correlation, as PyTorch) of x (N, C, H, W) with weight
    (OC, C, KH, KW), by im2col and a matrix product; bias (OC,) or None."""
    _refuse_conv_options(dilation, groups)
    _check_float("conv2d", x, weight, bias)
    stride, padding = _square(stride, "stride"), _square(padding, "padding")
    if x.ndim == 3 and weight.ndim == 4:          # one unbatched image (C, H, W)
        return conv2d(x.unsqueeze(0), weight, bias, stride, padding).squeeze(0)
    if x.ndim != 4 or weight.ndim != 4:
        raise ValueError(f"conv2d: expected x (N, C, H, W) or unbatched (C, H, W) and weight "
                         f"(OC, C, KH, KW), got shapes {x.shape} and {weight.shape}")
    if x.shape[1] != weight.shape[1]:
        raise ValueError(f"conv2d: input has {x.shape[1]} channels but the weight "
                         f"{weight.shape} expects {weight.shape[1]}")
    if bias is not None and bias.shape != (weight.shape[0],):
        raise ValueError(f"conv2d: bias has shape {bias.shape}, expected ({weight.shape[0]},)")
    if stride < 1 or padding < 0:
        raise ValueError(f"conv2d: stride must be ≥ 1 and padding ≥ 0, got {stride}, {padding}")
    h, w = x.shape[2] + 2 * padding, x.shape[3] + 2 * padding
    if h < weight.shape[2] or w < weight.shape[3]:
        raise ValueError(f"conv2d: kernel {weight.shape[2:]} is larger than the padded input "
                         f"({h}, {w})")
    return ops.Conv2d.apply(x, weight, bias, stride=stride, padding=padding)


def max_pool2d(x, kernel_size, stride=None, padding=0):
    """Max over kernel_size windows of x (N, C, H, W), stepping by stride (default: the
    kernel size); output size by floor, as PyTorch."""
    _check_float("max_pool2d", x)
    kernel = pair(kernel_size, "kernel_size")
    stride = _square(stride if stride is not None else kernel_size, "stride")
    padding = _square(padding, "padding")
    if stride < 1:
        raise RuntimeError(f"max_pool2d: stride should be at least 1, got {stride}")
    if x.ndim == 3:                               # one unbatched image (C, H, W)
        return max_pool2d(x.unsqueeze(0), kernel_size, stride, padding).squeeze(0)
    if x.ndim != 4:
        raise ValueError(f"max_pool2d: expected x of shape (N, C, H, W) or unbatched "
                         f"(C, H, W), got {x.shape}")
    if padding * 2 > min(kernel):
        raise ValueError(f"max_pool2d: padding {padding} must be at most half the kernel "
                         f"size {kernel}")
    if x.shape[2] + 2 * padding < kernel[0] or x.shape[3] + 2 * padding < kernel[1]:
        raise ValueError(f"max_pool2d: kernel {kernel} is larger than the input {x.shape[2:]}")
    return ops.MaxPool2d.apply(x, kernel_size=kernel, stride=stride, padding=padding)


def sigmoid(x):
    _check_float("sigmoid", x)
    return ops.Sigmoid.apply(x)


def relu(x, inplace=False):
    """max(x, 0); with ``inplace`` written into x (recorded in the graph, as PyTorch)."""
    _check_float("relu", x)
    return x.relu_() if inplace else ops.ReLU.apply(x)


def linear(x, weight, bias=None):
    """y = x @ weightᵀ + bias for x (*, in) — any number of leading dims, or none —
    weight (out, in), bias (out,) or None. The leading dims are flattened into one batch."""
    _check_float("linear", x, weight, bias)
    if x.ndim < 1 or weight.ndim != 2 or x.shape[-1] != weight.shape[1]:
        raise ValueError(f"linear: x {x.shape} and weight {weight.shape} do not fit: expected "
                         f"x (*, in) and weight (out, in) with the same in")
    if bias is not None and bias.shape != (weight.shape[0],):
        raise ValueError(f"linear: bias has shape {bias.shape}, expected ({weight.shape[0]},)")
    if x.ndim == 2:
        return ops.Linear.apply(x, weight, bias)
    lead = x.shape[:-1]
    batch = 1
    for n in lead:
        batch *= n
    y = ops.Linear.apply(x.reshape(batch, x.shape[-1]), weight, bias)
    return y.reshape(lead + (weight.shape[0],))


def _check_class_targets(op, scores, target, weight, ignore_index, reduction):
    """The shared checks of cross_entropy and nll_loss: scores (B, K) float, target (B,)
    int64 (or uint8, made int64) classes on the same device, weight (K,) or None, a known
    reduction. A class out of range (other than ignore_index) is an IndexError on the CPU;
    on the GPU, where the check would wait for the device every step, the kernels give a
    NaN loss instead."""
    _check_float(op, scores, weight)
    if not isinstance(target, Tensor):
        target = Tensor(target, device=scores.device)
    check_same_device(op, [scores, target] + ([weight] if weight is not None else []))
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"{op}: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")
    if _dtype.is_integer(target.dtype) and target.dtype != _dtype.int64:
        if target.dtype != _dtype.uint8:          # PyTorch takes Long or Byte classes only
            raise RuntimeError(f"expected target dtype to be Long or Byte, but got "
                               f"{_dtype.TYPE_NAMES[target.dtype]}")
        target = target.long()
    if target.dtype != _dtype.int64:
        raise TypeError(f"{op}: target must hold int64 class indices, got "
                        f"{target.dtype} (class probabilities need a float target of the "
                        f"input's shape)")
    if scores.ndim != 2 or target.shape != scores.shape[:1]:
        raise ValueError(f"{op}: expected input (B, K) and target (B,), got "
                         f"{scores.shape} and {target.shape}")
    k = scores.shape[1]
    if weight is not None and weight.shape != (k,):
        raise ValueError(f"{op}: weight has shape {weight.shape}, expected one weight per "
                         f"class: ({k},)")
    if target.device.type == "cpu":
        t = target._data
        out_of_range = ((t < 0) | (t >= k)) & (t != ignore_index)
        if out_of_range.any():
            raise IndexError(f"{op}: target class {int(t[out_of_range][0])} is out of range "
                             f"for {k} classes")
    return target


def _per_position(loss_fn, op, input, target, reduction, **kw):
    """``loss_fn`` on scores (N, K, d1, ...) and classes (N, d1, ...), PyTorch's form for a
    class at each position (a sequence's tokens, an image's pixels): the classes moved last
    and every position made a row, so the mean and the ignored targets count positions as
    PyTorch does; ``reduction="none"`` gives the losses back as (N, d1, ...)."""
    if not isinstance(target, Tensor):
        target = Tensor(target, device=input.device)
    if target.shape != input.shape[:1] + input.shape[2:]:
        raise ValueError(f"{op}: expected input (N, K, d1, ...) and target (N, d1, ...), got "
                         f"{input.shape} and {target.shape}")
    rows = input.movedim(1, -1).reshape(-1, input.shape[1])
    loss = loss_fn(rows, target.reshape(-1), reduction=reduction, **kw)
    return loss.reshape(target.shape) if reduction == "none" else loss


def cross_entropy(input, target, weight=None, ignore_index=-100, reduction="mean",
                  label_smoothing=0.0, stats=None):
    """Cross-entropy of raw logits (B, K) against int64 class indices (B,), PyTorch's
    arguments: per-class ``weight``, targets equal to ``ignore_index`` left out, and
    ``label_smoothing`` ε, which mixes the one-hot target with the uniform one:

        loss[b] = (1 − ε)·nll[b] + (ε / K)·Σ_k w_k·(−log p[b, k])

    (reduced the way ``nll_loss`` reduces, the mean dividing by Σ w[t[b]]). Without weight
    and smoothing this is the fused softmax-cross-entropy backend function (a kernel on the
    GPU), which leaves out the rows whose target is ``ignore_index`` itself (loss 0, no
    gradient, the mean dividing by the rows counted: NaN when none is, as PyTorch);
    otherwise log_softmax followed by nll_loss.

    ``stats`` (minigrad's, not PyTorch's): a float64 tensor of 4 values on the logits' device
    (``nn.TrainingStats`` holds one) to which the batch's mean loss, its number of correct
    predictions (argmax of the logits = target), its size and 1 are added, in place and
    outside the graph — on the GPU inside the loss's kernel, so that an epoch's loss and
    accuracy need no work of their own and no copy to the host until it ends. Only for the
    fused path (no weight, no label smoothing, no ignored target).

    Scores (N, K, d1, ...) with classes (N, d1, ...) are taken as one row per position.
    A float target of the input's shape holds class probabilities instead (soft labels)."""
    if isinstance(target, Tensor) and _dtype.is_float(target.dtype) and stats is None and \
            target.shape == input.shape and input.ndim >= 2:
        return _soft_cross_entropy(input, target, weight, ignore_index, reduction,
                                   label_smoothing)
    if input.ndim > 2 and stats is None:
        return _per_position(cross_entropy, "cross_entropy", input, target, reduction,
                             weight=weight, ignore_index=ignore_index,
                             label_smoothing=label_smoothing)
    logits = input
    target = _check_class_targets("cross_entropy", logits, target, weight, ignore_index,
                                  reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"cross_entropy: label_smoothing must be between 0.0 and 1.0, got "
                         f"{label_smoothing}")
    fused = weight is None and label_smoothing == 0
    if stats is not None:
        if not fused:
            raise ValueError("cross_entropy: stats works only without weight and "
                             "label_smoothing")
        if not isinstance(stats, Tensor) or stats.shape != (4,) or \
                stats.dtype != _dtype.float64 or stats.device != logits.device:
            raise ValueError("cross_entropy: stats must be a float64 tensor of shape (4,) on "
                             f"the logits' device ({logits.device}), e.g. "
                             "minigrad.nn.TrainingStats(device).totals")
        stats._mark_written()
    if fused:
        return ops.CrossEntropy.apply(logits, target, reduction=reduction,
                                      stats=None if stats is None else stats._data,
                                      ignore_index=ignore_index)
    logp = log_softmax(logits, 1)
    loss = nll_loss(logp, target, weight, ignore_index=ignore_index, reduction=reduction)
    if label_smoothing == 0:
        return loss
    # the smoothing term: −Σ_k w_k·log p[b, k] per sample, 0 for an ignored one
    kept = target != ignore_index
    smooth = -((logp * weight).sum(1) if weight is not None else logp.sum(1))
    smooth = where(kept, smooth, 0.0)
    if reduction == "mean":
        safe_target = where(kept, target, 0)
        counted = where(kept, weight[safe_target], 0.0) if weight is not None else kept.float()
        smooth = smooth.sum() / counted.sum().to(smooth.dtype)
    elif reduction == "sum":
        smooth = smooth.sum()
    k = logits.shape[1]
    return (1 - label_smoothing) * loss + (label_smoothing / k) * smooth


def _soft_cross_entropy(input, target, weight, ignore_index, reduction, label_smoothing):
    """Cross-entropy against class probabilities q (the input's shape, classes along dim 1;
    PyTorch's form for mixup and distillation): loss = −Σ_k w_k·q_k·log p_k per sample, q
    first mixed with the uniform ε/K by label smoothing; the mean divides by the number of
    samples (the weights do not enter it), as PyTorch."""
    _check_float("cross_entropy", input, target, weight)
    check_same_device("cross_entropy", [input, target] + ([weight] if weight is not None else []))
    if ignore_index != -100:
        raise ValueError("cross_entropy: ignore_index is not supported for class-probability "
                         "targets")
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"cross_entropy: reduction must be 'mean', 'sum' or 'none', got "
                         f"{reduction!r}")
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"cross_entropy: label_smoothing must be between 0.0 and 1.0, got "
                         f"{label_smoothing}")
    k = input.shape[1]
    if weight is not None and weight.shape != (k,):
        raise ValueError(f"cross_entropy: weight has shape {weight.shape}, expected one weight "
                         f"per class: ({k},)")
    q = target if label_smoothing == 0 else target * (1 - label_smoothing) + label_smoothing / k
    terms = q * log_softmax(input, 1)
    if weight is not None:
        terms = terms * weight.reshape((k,) + (1,) * (input.ndim - 2))
    loss = -terms.sum(1)
    return loss.mean() if reduction == "mean" else loss.sum() if reduction == "sum" else loss


def nll_loss(input, target, weight=None, ignore_index=-100, reduction="mean"):
    """Negative log-likelihood of log-probabilities (B, K) (a log_softmax's output) against
    int64 classes (B,): loss[b] = −w[t[b]]·input[b, t[b]] with per-class weights w (all 1
    by default), targets equal to ``ignore_index`` contributing nothing; the mean is the
    weighted one, Σ loss / Σ w[t[b]], as PyTorch. Scores (N, K, d1, ...) with classes
    (N, d1, ...) are taken as one row per position."""
    if input.ndim > 2:
        return _per_position(nll_loss, "nll_loss", input, target, reduction, weight=weight,
                             ignore_index=ignore_index)
    target = _check_class_targets("nll_loss", input, target, weight, ignore_index, reduction)
    if input.shape[1] == 0 and input.shape[0] > 0:
        raise ValueError(f"nll_loss: input of shape {input.shape} has no class")
    return ops.NLLLoss.apply(input, target, weight, ignore_index=int(ignore_index),
                             reduction=reduction)


def log_softmax(x, dim=None, dtype=None):
    x = x if dtype is None else x.to(dtype)
    _check_float("log_softmax", x)
    if dim is None:
        from .activation_functions import implicit_dim
        dim = implicit_dim("log_softmax", x.ndim)
    return ops.LogSoftmax.apply(x, dim=normalize_dim(dim, x.ndim))


def flatten(x, start_dim=1, end_dim=-1):
    return x.flatten(start_dim, end_dim)


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None):
    """The mean over kernel_size windows of x (N, C, H, W) or (C, H, W), stepping by stride
    (default: the kernel size), with ``padding`` zeros around the image; the output size is
    rounded down, or up with ``ceil_mode`` (a last window must start inside the image or its
    left padding). Each window's sum is divided by its cell count — the padding's cells
    included with ``count_include_pad``, else only the image's — or by ``divisor_override``.
    Kernel, stride and padding may be pairs (height, width)."""
    x = input
    _check_float("avg_pool2d", x)
    kernel = pair(kernel_size, "kernel_size")
    stride = pair(stride if stride is not None else kernel_size, "stride")
    padding = pair(padding, "padding")
    if x.ndim == 3:                               # one unbatched image (C, H, W)
        return avg_pool2d(x.unsqueeze(0), kernel, stride, padding, ceil_mode,
                          count_include_pad, divisor_override).squeeze(0)
    if x.ndim != 4:
        raise ValueError(f"avg_pool2d: expected x of shape (N, C, H, W) or unbatched "
                         f"(C, H, W), got {x.shape}")
    if min(kernel) < 1 or min(stride) < 1 or min(padding) < 0:
        raise ValueError(f"avg_pool2d: kernel_size and stride must be ≥ 1 and padding ≥ 0, "
                         f"got {kernel}, {stride}, {padding}")
    if padding[0] * 2 > kernel[0] or padding[1] * 2 > kernel[1]:
        raise ValueError(f"avg_pool2d: padding {padding} must be at most half the kernel "
                         f"size {kernel}")
    if divisor_override is not None and (not isinstance(divisor_override, int)
                                         or divisor_override < 1):
        raise ValueError(f"avg_pool2d: divisor_override must be a positive int, got "
                         f"{divisor_override!r}")
    out = [pool_out_size(n, k, s, p, ceil_mode)
           for n, k, s, p in zip(x.shape[2:], kernel, stride, padding)]
    if min(out) < 1:
        raise ValueError(f"avg_pool2d: kernel {kernel} with padding {padding} is larger than "
                         f"the input {x.shape[2:]} (the output would be {tuple(out)})")
    return ops.AvgPool2d.apply(x, kernel=kernel, stride=stride, padding=padding,
                               ceil_mode=bool(ceil_mode),
                               count_include_pad=bool(count_include_pad),
                               divisor=divisor_override)


def dropout(input, p=0.5, training=True, inplace=False):
    """Zero each element with probability p and scale the rest by 1/(1 − p), so the mean is
    unchanged; the identity (``input`` itself) when not ``training`` or p = 0. With
    ``inplace`` the result is written into ``input``. The mask is drawn from minigrad's
    generator on the CPU and from a counter-based generator (Philox) on the GPU, so
    ``manual_seed`` makes both repeat; neither gives PyTorch's bits."""
    if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0 <= p <= 1:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    _check_float("dropout", input)
    if not training or p == 0:
        return input
    if inplace:
        return input.mul_(as_tensor(ops.dropout_mask(input._data, float(p))))
    return ops.Dropout.apply(input, p=float(p))



def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False,
               momentum=0.1, eps=1e-5):
    """Normalise each channel (dim 1) of input (N, C, *) over the batch and every position,
    then scale by ``weight`` and shift by ``bias`` (C,) (either may be None):
    y = (x − mean)/√(var + eps)·γ + β. ``training``: the batch's mean and biased var, and
    ``running_mean``/``running_var`` (C,), when given, updated in place with weight
    ``momentum`` (the unbiased var, as PyTorch); otherwise the running statistics are used.
    The math is ``ops.layers.BatchNorm``'s."""
    _check_float("batch_norm", input, weight, bias, running_mean, running_var)
    if input.ndim < 2:
        raise ValueError(f"batch_norm: expected input (N, C, *), got shape {input.shape}")
    c = input.shape[1]
    for name, t in (("running_mean", running_mean), ("running_var", running_var),
                    ("weight", weight), ("bias", bias)):
        if t is not None and t.shape != (c,):
            raise RuntimeError(f"{name} should contain {c} elements not "
                               f"{t.numel() if t.ndim == 1 else tuple(t.shape)}")
    if (running_mean is None) != (running_var is None):
        raise RuntimeError("batch_norm: running_mean and running_var must both be given or "
                           "both be None")
    if not training and running_mean is None:
        raise RuntimeError("running_mean must be defined in evaluation mode")
    per_channel = input.numel() // c if c else 0
    if training and per_channel == 1:
        raise ValueError("Expected more than 1 value per channel when training, got input "
                         f"size {tuple(input.shape)}")
    stats = running_mean._data if running_mean is not None else None, \
        running_var._data if running_var is not None else None
    if input.numel() == 0:          # nothing to normalise: the running statistics stay
        xp = input.xp
        stats, training = (xp.zeros(c, input.dtype), xp.ones(c, input.dtype)), False
    return ops.BatchNorm.apply(input, weight, bias, *stats, training=bool(training),
                               momentum=float(momentum), eps=float(eps))

# the activations and losses beyond the CNN's, written in files of their own
from .activation_functions import (  # noqa: E402,F401
    elu,
    gelu,
    hardtanh,
    leaky_relu,
    logsigmoid,
    mish,
    prelu,
    relu6,
    selu,
    silu,
    softmax,
    softplus,
    softsign,
    tanh,
)
from .attention_functions import scaled_dot_product_attention  # noqa: E402,F401
from .functional_1d import avg_pool1d, conv1d, max_pool1d  # noqa: E402,F401
from .interpolate import interpolate  # noqa: E402,F401
from .layer_functions import (  # noqa: E402,F401
    adaptive_avg_pool2d,
    dropout2d,
    embedding,
    group_norm,
    instance_norm,
    layer_norm,
    one_hot,
    pad,
)
from .loss_functions import (  # noqa: E402,F401
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    huber_loss,
    kl_div,
    l1_loss,
    mse_loss,
    smooth_l1_loss,
)
