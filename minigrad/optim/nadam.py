"""``NAdam``: Adam with Nesterov momentum."""
import numpy as np

from .adamax import check_adam_like
from .optimizer import Optimizer, closure_loss


class NAdam(Optimizer):
    """NAdam (Dozat 2016: Adam with Nesterov momentum), PyTorch's update rule. At step t
    (from 1), with μ_t = β1·(1 − ½·0.96^(t·momentum_decay)) and Π_t = μ_1⋯μ_t:

        g  = grad + weight_decay·p     (or p ·= 1 − lr·weight_decay when decoupled;
                                        −grad first when ``maximize``)
        m  = m + (1 − β1)·(g − m)
        v  = β2·v + (1 − β2)·g²
        d  = √(v / (1 − β2ᵗ)) + eps
        p −= lr·(1 − μ_t)/(1 − Π_t) · g/d + lr·μ_{t+1}/(1 − Π_t·μ_{t+1}) · m/d

    Π_t is kept in float32 whatever the parameters' dtype, as PyTorch keeps it (so float64
    trajectories agree with PyTorch's to rounding). Array-module code (``p.xp`` is NumPy or
    CuPy): the same lines on the CPU and the GPU."""

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 momentum_decay=4e-3, decoupled_weight_decay=False, *, foreach=None,
                 maximize=False, capturable=False, differentiable=False):
        check_adam_like(lr, betas, eps, weight_decay)
        if not 0.0 <= momentum_decay:
            raise ValueError(f"Invalid momentum_decay value: {momentum_decay}")
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps,
                                      weight_decay=weight_decay, momentum_decay=momentum_decay,
                                      decoupled_weight_decay=decoupled_weight_decay,
                                      maximize=maximize))

    def step(self, closure=None):
        loss = closure_loss(closure)
        for group, p, state, g in self._stepped(lambda group, p: {
                "step": 0, "mu_product": np.float32(1.0), "exp_avg": p.xp.zeros_like(p._data),
                "exp_avg_sq": p.xp.zeros_like(p._data)}):
            xp = p.xp
            t, lr = state["step"], group["lr"]
            beta1, beta2 = group["betas"]
            if group["weight_decay"]:
                if group["decoupled_weight_decay"]:
                    p._data *= 1 - lr * group["weight_decay"]
                else:
                    g = g + group["weight_decay"] * p._data
            mu = beta1 * (1 - 0.5 * 0.96 ** (t * group["momentum_decay"]))
            mu_next = beta1 * (1 - 0.5 * 0.96 ** ((t + 1) * group["momentum_decay"]))
            state["mu_product"] = np.float32(state["mu_product"] * np.float32(mu))
            state["exp_avg"] += (1 - beta1) * (g - state["exp_avg"])
            state["exp_avg_sq"] *= beta2
            state["exp_avg_sq"] += (1 - beta2) * g * g
            denom = xp.sqrt(state["exp_avg_sq"] / (1 - beta2 ** t)) + group["eps"]
            mu_product = float(state["mu_product"])
            p._data -= lr * (1 - mu) / (1 - mu_product) * (g / denom)
            p._data -= lr * mu_next / (1 - mu_product * mu_next) * (
                state["exp_avg"] / denom)
            p._mark_written()                 # an in-place write: its version goes up
        return loss
