"""The CUDA form of the backend: the interface's functions (``backend.INTERFACE``), same
names and signatures as ``textbook.py``, each launching hand-written kernels from
``kernels/*.cu`` on CuPy arrays.

    runtime.py      the kernel table and defines, compile, launch, the argument checks, the
                    one CuPy accessor, and reset() (forget what this process compiled and
                    asked the GPU)
    conv.py         conv2d, linear, the tiled GEMM, im2col / col2im, the bias gradient
    pool.py         max-pool and average pool
    activations.py  the sigmoid
    losses.py       cross-entropy and negative log-likelihood
    norm.py         batch normalisation (one block per channel)
    dropout.py      dropout masks (Philox, its state on the device)
    optim.py        Adam (many tensors per launch), Adadelta, RMSprop
    ladder.py       the GEMM ladder: four rungs from naive to register-blocked (for learning
                    and benchmarks, not the layers' path)

Importing this package does not import CuPy: it is imported on the first launch.

Zero sizes never reach a kernel: an empty output is returned as it is, and an output that
sums over an empty input is zeros (a grid of 0 blocks is a launch error, and an empty CuPy
array is a null pointer). Launch shapes never depend on the GPU model where that would
change the arithmetic: the split-K chunk is a constant, so a seed trains to the same bits on
any GPU.
"""
from . import runtime  # noqa: F401
from .activations import sigmoid_bwd, sigmoid_fwd  # noqa: F401
from .conv import (  # noqa: F401
    SPLIT_CHUNK,
    bias_grad,
    col2im,
    conv2d_bwd,
    conv2d_fwd,
    gemm,
    gemm_batch_sum,
    gemm_grid,
    gemm_tile,
    im2col,
    linear_bwd,
)
from .dropout import dropout_mask, philox_state  # noqa: F401
from .losses import (  # noqa: F401
    cross_entropy_bwd,
    cross_entropy_fwd,
    nll_bwd,
    nll_fwd,
    softmax_xent_bwd,
    softmax_xent_fwd,
)
from .norm import batchnorm_bwd, batchnorm_fwd  # noqa: F401
from .optim import ADAM_LIST, adadelta_step, adam_multi, adam_step, rmsprop_step  # noqa: F401
from .pool import avgpool2d_bwd, avgpool2d_fwd, maxpool2d_bwd, maxpool2d_fwd  # noqa: F401
from .runtime import (  # noqa: F401
    ADAM_MAX_TENSORS,
    BN_THREADS,
    DEFINES,
    KERNELS,
    MAX_GRID_YZ,
    THREADS,
    compile_options,
    kernel_dir,
    limit_blocks,
    reset,
)
