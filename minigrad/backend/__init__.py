"""The backends: one interface, several forms.

``INTERFACE`` names every function a form defines, with one signature for each name. The
layer ops in ``minigrad.ops.layers`` and the optimizers call ``backend_of(x).conv2d_fwd(...)``
and never need to know which form runs:

    textbook.py   plain NCHW NumPy that reads like the math (read this one first)
    loops.py      the same sums one number at a time (tiny shapes; a third oracle)
    cpu/          the fast CPU form: the textbook with what speed changed overridden
    cuda/         launches of the hand-written kernels in kernels/*.cu (arrays on the GPU)

Arrays on the CPU go to the form named by the environment variable ``MINIGRAD_CPU``
(``fast``, the default, ``textbook`` or ``loops``), read when ``backend_of`` is asked;
arrays on the GPU go to ``cuda``. (``minigrad.backends``, plural, is unrelated: PyTorch's
``torch.backends`` façade.)
"""
import importlib
import os

from ..device import _ON_GPU, on_gpu

INTERFACE = (
    # conv2d and the products behind it and linear
    "conv2d_fwd", "conv2d_bwd", "im2col", "col2im", "gemm", "gemm_batch_sum", "bias_grad",
    "linear_bwd",
    # pooling and activations
    "maxpool2d_fwd", "maxpool2d_bwd", "avgpool2d_fwd", "avgpool2d_bwd",
    "sigmoid_fwd", "sigmoid_bwd", "dropout_mask",
    # losses
    "softmax_xent_fwd", "softmax_xent_bwd", "cross_entropy_fwd", "cross_entropy_bwd",
    "nll_fwd", "nll_bwd",
    # normalisation
    "batchnorm_fwd", "batchnorm_bwd",
    # optimizers (in place)
    "adam_step", "adam_multi", "adadelta_step", "rmsprop_step",
)
CPU_FORMS = {"fast": "cpu", "textbook": "textbook", "loops": "loops"}   # form -> module


def cpu_form():
    """The CPU form ``MINIGRAD_CPU`` asks for: "fast" (the default), "textbook" or "loops"."""
    form = os.environ.get("MINIGRAD_CPU", "fast")
    if form not in CPU_FORMS:
        raise ValueError(f"MINIGRAD_CPU={form!r} is not a CPU form; choose one of "
                         f"{', '.join(CPU_FORMS)} (unset means fast)")
    return form


_forms = {}            # form -> its module, imported on first use


def cpu_backend(form=None):
    """The module of a CPU form (``form``, else the one ``MINIGRAD_CPU`` asks for)."""
    form = form or cpu_form()
    if form not in _forms:
        _forms[form] = importlib.import_module(f"{__name__}.{CPU_FORMS[form]}")
    return _forms[form]


def backend_of(*arrays):
    """The backend module of the device the arrays live on: the CPU form ``MINIGRAD_CPU``
    names (``backend.cpu`` by default), or ``backend.cuda``."""
    for a in arrays:
        gpu = _ON_GPU.get(type(a))        # (on_gpu's answer for a known array type)
        if gpu or (gpu is None and on_gpu(a)):
            return _cuda[0] if _cuda else _import_cuda()
    return cpu_backend()


_cuda = []             # backend.cuda once imported (asked for at every op on the GPU)


def _import_cuda():
    from . import cuda  # imports no CuPy
    _cuda.append(cuda)
    return cuda
