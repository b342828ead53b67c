"""Attention layers, as the Transformer tutorials and nanoGPT-style code use them:
``MultiheadAttention``,
``TransformerEncoderLayer``, ``TransformerEncoder`` and
``Transformer.generate_square_subsequent_mask`` (``scaled_dot_product_attention``, the
function, is in ``attention_functions``).

Everything here is composed from existing differentiable ops (linear, matmul, softmax,
masked_fill, dropout, layer_norm, reshape/permute), so the gradients come from autograd and
the layers run on every device with no kernel of their own. Parameter names, shapes and
initialisation are PyTorch's, so a PyTorch ``state_dict`` loads as it is.

Masks follow PyTorch, whose two conventions differ:

- ``scaled_dot_product_attention``: a bool ``attn_mask`` says which positions TAKE PART
  (True = attend); a float mask is added to the scores.
- ``MultiheadAttention`` and the Transformer layers: a bool ``attn_mask`` or
  ``key_padding_mask`` says which positions are MASKED OUT (True = ignore); a float mask is
  added to the scores.
"""
import copy
import math

from .. import _dtype
from ..creation import ones, zeros
from . import init
from .activation_functions import gelu, softmax
from .attention_functions import _additive, _as_mask
from .containers import ModuleList
from .functional import dropout, linear, relu
from .modules import Dropout, Linear, Module
from .normalization import LayerNorm
from .parameter import Parameter


class MultiheadAttention(Module):
    """Attention over ``num_heads`` heads of ``embed_dim / num_heads`` features each:

        Q = q W_qᵀ + b_q,  K = k W_kᵀ + b_k,  V = v W_vᵀ + b_v   (split into heads)
        head_h = softmax(Q_h K_hᵀ / √d + masks) V_h
        out = concat(head_1 … head_H) W_oᵀ + b_o

    W_q, W_k, W_v are the three row blocks of ``in_proj_weight`` (3E, E) when keys and
    values have ``embed_dim`` features, else ``q_proj_weight`` (E, E), ``k_proj_weight``
    (E, kdim), ``v_proj_weight`` (E, vdim); b_q, b_k, b_v are the blocks of
    ``in_proj_bias`` (3E); W_o, b_o are ``out_proj``'s. Initialisation is PyTorch's:
    Xavier-uniform input projections, zero biases, ``out_proj.weight`` as ``nn.Linear``.

    Inputs are (L, N, E) — or (N, L, E) with ``batch_first`` — or unbatched (L, E)."""

    def __init__(self, embed_dim, num_heads, dropout=0.0, bias=True, add_bias_kv=False,
                 add_zero_attn=False, kdim=None, vdim=None, batch_first=False, device=None,
                 dtype=None):
        super().__init__()
        if embed_dim <= 0 or num_heads <= 0:
            raise ValueError(f"embed_dim and num_heads must be greater than 0, got "
                             f"embed_dim={embed_dim} and num_heads={num_heads} instead")
        if add_bias_kv or add_zero_attn:
            raise NotImplementedError("MultiheadAttention: add_bias_kv and add_zero_attn "
                                      "are not supported by minigrad")
        self.embed_dim, self.num_heads, self.dropout = embed_dim, num_heads, dropout
        self.kdim = kdim if kdim is not None else embed_dim
        self.vdim = vdim if vdim is not None else embed_dim
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        self.batch_first = batch_first
        self.head_dim = embed_dim // num_heads
        if self.head_dim * num_heads != embed_dim:
            raise AssertionError("embed_dim must be divisible by num_heads")
        dt = _dtype.get_default_dtype()
        if self._qkv_same_embed_dim:
            self.in_proj_weight = Parameter(zeros(3 * embed_dim, embed_dim, dtype=dt))
            for name in ("q_proj_weight", "k_proj_weight", "v_proj_weight"):
                self.register_parameter(name, None)
        else:
            self.q_proj_weight = Parameter(zeros(embed_dim, embed_dim, dtype=dt))
            self.k_proj_weight = Parameter(zeros(embed_dim, self.kdim, dtype=dt))
            self.v_proj_weight = Parameter(zeros(embed_dim, self.vdim, dtype=dt))
            self.register_parameter("in_proj_weight", None)
        self.register_parameter(
            "in_proj_bias", Parameter(zeros(3 * embed_dim, dtype=dt)) if bias else None)
        self.out_proj = Linear(embed_dim, embed_dim, bias=bias)
        self._reset_parameters()
        if device is not None or dtype is not None:
            self.to(device=device, dtype=dtype)

    def _reset_parameters(self):
        """PyTorch's: Xavier-uniform input projections, zero biases."""
        if self._qkv_same_embed_dim:
            init.xavier_uniform_(self.in_proj_weight)
        else:
            for w in (self.q_proj_weight, self.k_proj_weight, self.v_proj_weight):
                init.xavier_uniform_(w)
        if self.in_proj_bias is not None:
            init.constant_(self.in_proj_bias, 0.0)
            init.constant_(self.out_proj.bias, 0.0)

    def _projections(self):
        """(W_q, W_k, W_v) and (b_q, b_k, b_v) (Nones without bias)."""
        e = self.embed_dim
        if self._qkv_same_embed_dim:
            w = self.in_proj_weight
            weights = (w[:e], w[e:2 * e], w[2 * e:])
        else:
            weights = (self.q_proj_weight, self.k_proj_weight, self.v_proj_weight)
        b = self.in_proj_bias
        biases = (None, None, None) if b is None else (b[:e], b[e:2 * e], b[2 * e:])
        return weights, biases

    def _masks(self, key_padding_mask, attn_mask, like, batch, length, source_length):
        """One additive mask broadcastable to (N, H, L, S), or None."""
        total = None
        if attn_mask is not None:
            m = _additive(attn_mask, like, masked_when=True)
            if m.ndim == 2:
                expected = (length, source_length)
            else:
                expected = (batch * self.num_heads, length, source_length)
            if tuple(m.shape) != expected:
                raise RuntimeError(f"The shape of the {m.ndim}D attn_mask is "
                                   f"{tuple(m.shape)}, but should be {expected}.")
            total = m if m.ndim == 2 else m.reshape(batch, self.num_heads, length,
                                                    source_length)
        if key_padding_mask is not None:
            m = _additive(key_padding_mask, like, masked_when=True)
            if tuple(m.shape) != (batch, source_length):
                raise AssertionError(f"expecting key_padding_mask shape of "
                                     f"{(batch, source_length)}, but got {tuple(m.shape)}")
            m = m.reshape(batch, 1, 1, source_length)
            total = m if total is None else total + m
        return total

    def forward(self, query, key, value, key_padding_mask=None, need_weights=True,
                attn_mask=None, average_attn_weights=True, is_causal=False):
        """Returns (output, weights): output shaped like ``query``; weights (N, L, S)
        averaged over heads, or (N, H, L, S) with ``average_attn_weights=False`` (no N when
        unbatched), or None with ``need_weights=False``."""
        if is_causal and attn_mask is None:
            raise RuntimeError("Need attn_mask if specifying the is_causal hint. You may use "
                               "the Transformer module method "
                               "`generate_square_subsequent_mask` to create this mask.")
        batched = query.ndim == 3
        if not batched:
            if query.ndim != 2:
                raise AssertionError(f"query should be unbatched 2D or batched 3D tensor but "
                                     f"received {query.ndim}-D query tensor")
            query, key, value = query.unsqueeze(1), key.unsqueeze(1), value.unsqueeze(1)
            if key_padding_mask is not None:
                key_padding_mask = _as_mask(key_padding_mask, query).unsqueeze(0)
            if attn_mask is not None and attn_mask.ndim == 3:
                attn_mask = _as_mask(attn_mask, query)
        elif self.batch_first:               # work sequence-first, as PyTorch does
            query, key, value = (t.transpose(0, 1) for t in (query, key, value))
        length, batch, _ = query.shape
        source_length = key.shape[0]
        heads, d = self.num_heads, self.head_dim

        (wq, wk, wv), (bq, bk, bv) = self._projections()

        def split(x, w, b, n):               # (n, N, E) → (N, H, n, d)
            return linear(x, w, b).reshape(n, batch, heads, d).permute(1, 2, 0, 3)

        q = split(query, wq, bq, length)
        k = split(key, wk, bk, source_length)
        v = split(value, wv, bv, source_length)
        scores = q.matmul(k.transpose(-2, -1)) * (1.0 / math.sqrt(d))
        mask = self._masks(key_padding_mask, attn_mask, query, batch, length, source_length)
        if mask is not None:
            scores = scores + mask
        weights = softmax(scores, dim=-1)
        if self.training and self.dropout > 0:   # the returned weights are the dropped ones
            weights = dropout(weights, self.dropout, training=True)
        out = weights.matmul(v).permute(2, 0, 1, 3).reshape(length, batch, self.embed_dim)
        out = self.out_proj(out)
        if not batched:
            out = out.squeeze(1)
        elif self.batch_first:
            out = out.transpose(0, 1)
        if not need_weights:
            return out, None
        if average_attn_weights:
            weights = weights.mean(dim=1)
        return out, weights if batched else weights.squeeze(0)


def _activation(activation):
    if activation == "relu":
        return relu
    if activation == "gelu":
        return gelu
    if callable(activation):
        return activation
    raise RuntimeError(f"activation should be relu/gelu, not {activation}")


class TransformerEncoderLayer(Module):
    """Self-attention then a feed-forward block, each wrapped in a residual connection
    and a LayerNorm (Vaswani et al.). With ``norm_first=False`` (post-norm):

        x = norm1(x + dropout1(self_attn(x, x, x)))
        x = norm2(x + dropout2(linear2(dropout(activation(linear1(x))))))

    With ``norm_first=True`` (pre-norm) each block sees its norm's output instead and the
    residual adds the un-normalised x: x = x + block(norm(x))."""

    def __init__(self, d_model, nhead, dim_feedforward=2048, dropout=0.1, activation="relu",
                 layer_norm_eps=1e-5, batch_first=False, norm_first=False, bias=True,
                 device=None, dtype=None):
        super().__init__()
        self.self_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias,
                                            batch_first=batch_first)
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias)
        self.norm_first = norm_first
        self.norm1 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias)
        self.norm2 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias)
        self.dropout1 = Dropout(dropout)
        self.dropout2 = Dropout(dropout)
        self.activation = _activation(activation)
        if device is not None or dtype is not None:
            self.to(device=device, dtype=dtype)

    def _sa_block(self, x, attn_mask, key_padding_mask, is_causal):
        x = self.self_attn(x, x, x, attn_mask=attn_mask, key_padding_mask=key_padding_mask,
                           need_weights=False, is_causal=is_causal)[0]
        return self.dropout1(x)

    def _ff_block(self, x):
        return self.dropout2(self.linear2(self.dropout(self.activation(self.linear1(x)))))

    def forward(self, src, src_mask=None, src_key_padding_mask=None, is_causal=False):
        x = src
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), src_mask, src_key_padding_mask, is_causal)
            x = x + self._ff_block(self.norm2(x))
        else:
            x = self.norm1(x + self._sa_block(x, src_mask, src_key_padding_mask, is_causal))
            x = self.norm2(x + self._ff_block(x))
        return x


class TransformerEncoder(Module):
    """``num_layers`` deep copies of ``encoder_layer`` applied in turn (each with its own
    parameters, all starting equal), then ``norm`` if given."""

    def __init__(self, encoder_layer, num_layers, norm=None, enable_nested_tensor=True,
                 mask_check=True):
        super().__init__()
        self.layers = ModuleList([copy.deepcopy(encoder_layer) for _ in range(num_layers)])
        self.num_layers = num_layers
        self.norm = norm

    def forward(self, src, mask=None, src_key_padding_mask=None, is_causal=None):
        x = src
        for layer in self.layers:
            x = layer(x, src_mask=mask, src_key_padding_mask=src_key_padding_mask,
                      is_causal=bool(is_causal))
        return self.norm(x) if self.norm is not None else x


class Transformer:
    """Only ``Transformer.generate_square_subsequent_mask``: the full encoder-decoder
    ``nn.Transformer`` (its decoder layers) is not in minigrad."""

    def __init__(self, *args, **kwargs):
        raise NotImplementedError("nn.Transformer (the encoder-decoder model) is not in "
                                  "minigrad; nn.TransformerEncoder and "
                                  "nn.Transformer.generate_square_subsequent_mask are")

    @staticmethod
    def generate_square_subsequent_mask(sz, device=None, dtype=None):
        """The float (sz, sz) causal mask: 0 on and below the diagonal, −∞ above it."""
        dt = dtype if dtype is not None else _dtype.get_default_dtype()
        keep = ones(sz, sz, dtype=bool, device=device).tril()
        return zeros(sz, sz, dtype=dt, device=device).masked_fill(~keep, float("-inf"))
