"""The optimizers' in-place steps on the GPU (``kernels/adam.cu``, ``kernels/adadelta.cu``,
``kernels/rmsprop.cu``): Adam over many tensors in two launches, with step counts kept on the
device so that a captured CUDA graph replays step t+1."""
import numpy as np

from .runtime import (
    ADAM_MAX_TENSORS,
    THREADS,
    cache,
    get_cupy,
    grid_1d,
    launch,
    ready,
)


# ---- Adam ----------------------------------------------------------------------------------
def _adam_operands(who, param, grad, m, v):
    """Check one tensor's Adam operands (param, m and v are updated where they are, so they
    must be contiguous: a copy would lose the update); returns grad ready for a kernel."""
    for name, arr in (("param", param), ("exp_avg", m), ("exp_avg_sq", v)):
        if not arr.flags.c_contiguous:
            raise ValueError(f"{who}: {name} must be contiguous to be updated in place")
    grad = ready(grad, f"{who} grad", dtype=param.dtype)
    if not param.shape == grad.shape == m.shape == v.shape:
        raise ValueError(f"{who}: param {param.shape}, grad {grad.shape}, exp_avg {m.shape} "
                         f"and exp_avg_sq {v.shape} must have one shape")
    return grad


def adam_step(param, grad, m, v, step, lr, beta1, beta2, eps, weight_decay):
    """In place, like textbook.adam_step; param, m and v must already be contiguous (they are
    updated where they are, so a copy would lose the update)."""
    grad = _adam_operands("adam_step", param, grad, m, v)
    if param.size == 0:
        return
    f = param.dtype.type
    step_size = lr / (1 - beta1 ** step)
    bc2_sqrt = (1 - beta2 ** step) ** 0.5
    launch("adam.cu", "adam_step", param, grid_1d(param.size), (THREADS,),
            (param, grad, m, v, np.int64(param.size), f(step_size), f(beta1), f(beta2), f(eps),
             f(weight_decay), f(bc2_sqrt)), [param.shape])


# adam.cu's AdamList, field for field (8-byte fields: no padding on either side)
ADAM_LIST = np.dtype([("count", np.int64), ("start", np.int64, (ADAM_MAX_TENSORS + 1,))]
                     + [(f, np.uint64, (ADAM_MAX_TENSORS,))
                        for f in ("param", "grad", "exp_avg", "exp_avg_sq", "step")])
_adam_lists = cache("adam_lists")   # a launch's pointers -> its AdamList (reused every step)


def adam_multi(params, grads, exp_avgs, exp_avg_sqs, steps, lr, beta1, beta2, eps,
               weight_decay):
    """Adam on many tensors at once, in place: each step count (a 0-d float64 device array
    per tensor) advanced by one kernel, then every element of every tensor updated by one
    more — two launches per ADAM_MAX_TENSORS tensors of a dtype, whatever their number and
    sizes, and no number from the host that changes from step to step (a CUDA graph replays
    it as step t+1). The same arithmetic as adam_step."""
    lists = {}
    for p, g, m, v, t in zip(params, grads, exp_avgs, exp_avg_sqs, steps):
        g = _adam_operands("adam", p, g, m, v)
        if t.dtype != np.float64 or t.shape != ():
            raise ValueError(f"adam: the step count must be a 0-d float64 device array, got "
                             f"{t.dtype} {t.shape}")
        lists.setdefault(p.dtype, []).append((p, g, m, v, t))   # an empty one's t counts too
    d_lr, d_b1, d_b2 = np.float64(lr), np.float64(beta1), np.float64(beta2)
    for dtype, tensors in lists.items():
        f = dtype.type
        for first in range(0, len(tensors), ADAM_MAX_TENSORS):
            chunk = tensors[first:first + ADAM_MAX_TENSORS]
            adam_list, total, shapes = _adam_list(chunk)
            launch("adam.cu", "adam_count_steps", chunk[0][0], (1,), (ADAM_MAX_TENSORS,),
                    (adam_list,), shapes)
            if total:
                launch("adam.cu", "adam_multi", chunk[0][0], grid_1d(total), (THREADS,),
                        (adam_list, d_lr, d_b1, d_b2, f(beta1), f(beta2), f(eps),
                         f(weight_decay)), shapes)


_ADAM_FIELDS = ("param", "grad", "exp_avg", "exp_avg_sq", "step")


def _adam_list(chunk):
    """(AdamList, total elements, shapes) of these tensors, made once for each set of
    addresses and sizes (a step's gradients usually come back at the same addresses, a
    captured graph's always do)."""
    pointers = [a.data.ptr for tensors in chunk for a in tensors]     # 5 a tensor, in order
    sizes = [tensors[0].size for tensors in chunk]
    key = (*pointers, *sizes)
    made = _adam_lists.get(key)
    if made is None:
        if len(_adam_lists) > 64:            # addresses that keep changing: do not pile up
            _adam_lists.clear()
        n = len(chunk)
        adam_list = np.zeros(1, ADAM_LIST)
        adam_list["count"] = n
        adam_list["start"][0, 1:n + 1] = np.cumsum(sizes)
        by_field = np.array(pointers, dtype=np.uint64).reshape(n, len(_ADAM_FIELDS))
        for j, field in enumerate(_ADAM_FIELDS):
            adam_list[field][0, :n] = by_field[:, j]
        made = _adam_lists[key] = (adam_list, int(adam_list["start"][0, n]),
                                   [tensors[0].shape for tensors in chunk])
    return made


# ---- Adadelta and RMSprop ------------------------------------------------------------------
def _in_place_operands(who, param, grad, states):
    """The gradient made contiguous; the parameter and the state arrays, which are updated
    where they are, must already be (a copy would lose the update)."""
    for name, arr in (("param", param),) + tuple(states.items()):
        if not arr.flags.c_contiguous:
            raise ValueError(f"{who}: {name} must be contiguous to be updated in place")
        if arr.shape != param.shape or arr.dtype != param.dtype:
            raise ValueError(f"{who}: {name} is {arr.dtype} {arr.shape}, the parameter "
                             f"{param.dtype} {param.shape}")
    grad = ready(grad, f"{who} grad", dtype=param.dtype)
    if grad.shape != param.shape:
        raise ValueError(f"{who}: grad {grad.shape} and param {param.shape} differ")
    return grad


def adadelta_step(param, grad, square_avg, acc_delta, lr, rho, eps, weight_decay):
    """In place, like textbook.adadelta_step (kernels/adadelta.cu)."""
    grad = _in_place_operands("adadelta_step", param, grad,
                              {"square_avg": square_avg, "acc_delta": acc_delta})
    if param.size == 0:
        return
    f = param.dtype.type
    launch("adadelta.cu", "adadelta_step", param, grid_1d(param.size), (THREADS,),
            (param, grad, square_avg, acc_delta, np.int64(param.size), f(lr), f(rho),
             f(1 - rho), f(eps), f(weight_decay)), [param.shape])


def rmsprop_step(param, grad, square_avg, grad_avg, momentum_buffer, lr, alpha, eps,
                 weight_decay, momentum, centered):
    """In place, like textbook.rmsprop_step (kernels/rmsprop.cu). ``grad_avg`` may be None unless
    centered, ``momentum_buffer`` None unless momentum > 0: an empty array (a null pointer)
    goes in their place, which the kernel never reads."""
    states = {"square_avg": square_avg}
    if centered:
        states["grad_avg"] = grad_avg
    if momentum > 0:
        states["momentum_buffer"] = momentum_buffer
    cupy = get_cupy()
    grad = _in_place_operands("rmsprop_step", param, grad, states)
    if param.size == 0:
        return
    f = param.dtype.type
    unused = cupy.empty(0, dtype=param.dtype)     # a null pointer the kernel never reads
    launch("rmsprop.cu", "rmsprop_step", param, grid_1d(param.size), (THREADS,),
            (param, grad, square_avg, grad_avg if centered else unused,
             momentum_buffer if momentum > 0 else unused, np.int64(param.size), f(lr),
             f(alpha), f(1 - alpha), f(eps), f(weight_decay), f(momentum),
             np.int32(bool(centered))),
            [param.shape])
