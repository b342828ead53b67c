"""Differentiable ops. Each is a ``Function`` whose forward and backward work on arrays;
``elementwise``, ``reduce`` and ``shape`` hold the generic ones (NumPy or CuPy array code),
``layers`` the CNN layers that call the device backends. Generic too: ``join`` (cat),
``index`` (gather, scatter, index_select, masked_fill), ``arrange`` (expand, repeat, flip,
tril/triu, cumsum), ``linalg`` (einsum) and ``activations`` (softmax, leaky ReLU, ELU,
GELU, log1p, sin, cos, rounding)."""
