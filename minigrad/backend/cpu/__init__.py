"""The fast CPU form: the textbook (``backend/textbook.py``) with the functions whose speed
mattered replaced. What is not overridden here *is* the textbook; read that first.

One file per concern:

    threads.py   the helper threads a layer's work is split over, on by default (one per
                 usable core; ``set_num_threads``, $MINIGRAD_NUM_THREADS), and the BLAS held
                 to one thread while a layer runs (``_one_blas_thread``)
    buffers.py   the layers' big arrays, kept and handed out again between steps
    layout.py    batch-last memory: the NCHW view of (C, H, W, N) memory, which conv and pool
                 keep inside the layer (what crosses the interface is still NCHW)
    conv.py      conv2d_fwd / conv2d_bwd: im2col + one product per cache-sized block of
                 output rows over batch-last memory, on the threads
    pool.py      maxpool2d_fwd / maxpool2d_bwd: batch-last, the 2×2 pool as a tournament
    sigmoid.py   sigmoid_fwd / sigmoid_bwd: in place, on the threads (the plain
                 1 / (1 + e⁻ˣ), which underflows to 0 below x ≈ −88 in float32)
    adam.py      adam_step / adam_multi: one scratch array for every line of the update

gemm, gemm_batch_sum and linear_bwd are the textbook's, wrapped to run with the BLAS on one
thread (the same bits whatever $OPENBLAS_NUM_THREADS says).

Each override computes the textbook's math (tests/test_backend_forms.py checks every one
against its twin); the results are the same bits on any number of threads.
"""
from .. import textbook
from ..textbook import *  # noqa: F401,F403  (the interface as the textbook writes it)
from .adam import adam_multi, adam_step  # noqa: F401
from .conv import conv2d_bwd, conv2d_fwd  # noqa: F401
from .layout import from_batch_last, to_batch_last  # noqa: F401
from .pool import maxpool2d_bwd, maxpool2d_fwd  # noqa: F401
from .sigmoid import sigmoid_bwd, sigmoid_fwd  # noqa: F401
from .threads import (  # noqa: F401
    _one_blas_thread,
    blas_num_threads,
    get_num_threads,
    set_num_threads,
    tune_malloc,
)

gemm = _one_blas_thread(textbook.gemm)
gemm_batch_sum = _one_blas_thread(textbook.gemm_batch_sum)
linear_bwd = _one_blas_thread(textbook.linear_bwd)

OVERRIDES = ("conv2d_fwd", "conv2d_bwd", "maxpool2d_fwd", "maxpool2d_bwd", "sigmoid_fwd",
             "sigmoid_bwd", "adam_step", "adam_multi", "gemm", "gemm_batch_sum", "linear_bwd")
"""The interface functions this form replaces; every other one is the textbook's."""
