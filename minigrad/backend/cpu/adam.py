"""Adam, fast: the textbook's update rearranged so that one scratch array serves every line
(no temporaries the size of the parameter); the same formula up to rounding.
"""
import math

import numpy as np


def adam_step(param, grad, m, v, step, lr, beta1, beta2, eps, weight_decay):
    """One Adam update of ``param``, ``m`` and ``v`` in place, PyTorch's formula:

        g  = grad + weight_decay·param
        m  = m + (1 − β1)(g − m)                  (= β1·m + (1 − β1)·g)
        v  = β2·v + (1 − β2)·g²
        param −= lr / (1 − β1ᵗ) · m / (√v / √(1 − β2ᵗ) + eps)

    eps is added after the bias correction, as PyTorch does (Chainer adds it before). Every
    scalar is a Python float, so float32 stays float32 (a NumPy float64 scalar would promote
    the whole update to float64 under NumPy 2's rules), and one scratch array t serves
    every line.
    """
    lr, beta1, beta2, eps, weight_decay = map(float, (lr, beta1, beta2, eps, weight_decay))
    step_size = lr / (1 - beta1 ** step)
    bias_correction2_sqrt = math.sqrt(1 - beta2 ** step)
    if weight_decay:
        grad = grad + weight_decay * param
    t = np.subtract(grad, m, out=np.empty_like(m))     # out=: an array even when 0-d
    t *= 1 - beta1
    m += t
    v *= beta2
    np.multiply(grad, grad, out=t)
    t *= 1 - beta2
    v += t
    np.sqrt(v, out=t)
    t /= bias_correction2_sqrt
    t += eps
    np.divide(m, t, out=t)
    t *= step_size
    param -= t


def adam_multi(params, grads, exp_avgs, exp_avg_sqs, steps, lr, beta1, beta2, eps,
               weight_decay):
    """Adam on each tensor in turn (adam_step), each step count (a 0-d float64 array)
    advanced first."""
    for p, g, m, v, t in zip(params, grads, exp_avgs, exp_avg_sqs, steps):
        t += 1
        adam_step(p, g, m, v, int(t), lr, beta1, beta2, eps, weight_decay)
