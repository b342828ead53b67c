"""``scaled_dot_product_attention`` (re-exported by ``nn.functional``) and the mask helpers
the attention layers share, composed from existing differentiable ops (matmul, softmax,
masked_fill, dropout). Mask conventions: see ``nn.attention``."""
import math

from ..creation import ones, zeros
from ..tensor import Tensor, as_tensor
from .activation_functions import softmax


def _as_mask(mask, like):
    """``mask`` as a Tensor on ``like``'s device (bool stays bool; numbers take its dtype)."""
    mask = mask if isinstance(mask, Tensor) else as_tensor(mask, device=like.device)
    if mask.dtype == bool:
        return mask
    return mask.to(dtype=like.dtype)


def _additive(mask, like, masked_when):
    """A mask as numbers to add to the scores: a bool mask becomes −∞ where it equals
    ``masked_when`` and 0 elsewhere; a float mask is already additive."""
    mask = _as_mask(mask, like)
    if mask.dtype != bool:
        return mask
    hidden = mask if masked_when else ~mask
    return zeros(*mask.shape, dtype=like.dtype, device=like.device).masked_fill(
        hidden, float("-inf"))


def _causal(length, source_length, like):
    """The bool mask (L, S) that lets query i attend to keys 0 … i only (True = attend)."""
    return ones(length, source_length, dtype=bool, device=like.device).tril()


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0,
                                 is_causal=False, scale=None, enable_gqa=False):
    """softmax(Q Kᵀ · scale + B) V, with scale = 1/√E by default (E = the last dim of Q),
    over the last two dims (…, L, E) × (…, S, E) × (…, S, Ev) → (…, L, Ev).

    B is 0 where a position takes part and −∞ where it does not: ``attn_mask`` bool (True
    = take part) or float (added as it is), broadcast to (…, L, S); ``is_causal`` lets
    query i see keys 0 … i only. Dropout with probability ``dropout_p`` is applied to the
    attention weights whenever ``dropout_p`` > 0 (as in PyTorch, the function knows no
    training flag: pass ``dropout_p=p if self.training else 0``)."""
    if enable_gqa:
        raise NotImplementedError("scaled_dot_product_attention: enable_gqa is not "
                                  "supported by minigrad")
    length, source_length = query.shape[-2], key.shape[-2]
    scale = 1.0 / math.sqrt(query.shape[-1]) if scale is None else scale
    scores = query.matmul(key.transpose(-2, -1)) * scale
    if is_causal:
        if attn_mask is not None:
            raise RuntimeError("_scaled_dot_product_attention: Explicit attn_mask should "
                               "not be set when is_causal=True")
        scores = scores.masked_fill(~_causal(length, source_length, query),
                                    float("-inf"))
    if attn_mask is not None:
        mask = _as_mask(attn_mask, query)
        if mask.dtype == bool:
            scores = scores.masked_fill(~mask, float("-inf"))
        else:
            scores = scores + mask
    weights = softmax(scores, dim=-1)
    if dropout_p > 0:
        from .functional import dropout
        weights = dropout(weights, dropout_p, training=True)
    return weights.matmul(value)
