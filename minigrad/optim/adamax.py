"""``Adamax``: Adam with an infinity norm in place of the root mean square."""
from .optimizer import Optimizer, closure_loss


def check_adam_like(lr, betas, eps, weight_decay):
    """PyTorch's refusals for the Adam family's hyper-parameters."""
    if not 0.0 <= lr:
        raise ValueError(f"Invalid learning rate: {lr}")
    if not 0.0 <= eps:
        raise ValueError(f"Invalid epsilon value: {eps}")
    for i, beta in enumerate(betas):
        if not 0.0 <= beta < 1.0:
            raise ValueError(f"Invalid beta parameter at index {i}: {beta}")
    if not 0.0 <= weight_decay:
        raise ValueError(f"Invalid weight_decay value: {weight_decay}")


class Adamax(Optimizer):
    """Adamax (Kingma & Ba 2015, section 7.1), PyTorch's update rule: Adam with the root
    mean square replaced by an exponentially weighted infinity norm. At step t (from 1):

        g       = grad + weight_decay·p              (−grad first when ``maximize``)
        m       = m + (1 − β1)·(g − m)
        u       = max(β2·u, |g| + eps)
        p      −= lr / (1 − β1ᵗ) · m / u

    Array-module code (``p.xp`` is NumPy or CuPy): the same lines on the CPU and the GPU."""

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 foreach=None, *, maximize=False, differentiable=False, capturable=False):
        check_adam_like(lr, betas, eps, weight_decay)
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps,
                                      weight_decay=weight_decay, maximize=maximize))

    def step(self, closure=None):
        loss = closure_loss(closure)
        for group, p, state, g in self._stepped(lambda group, p: {
                "step": 0, "exp_avg": p.xp.zeros_like(p._data),
                "exp_inf": p.xp.zeros_like(p._data)}):
            xp = p.xp
            beta1, beta2 = group["betas"]
            if group["weight_decay"]:
                g = g + group["weight_decay"] * p._data
            state["exp_avg"] += (1 - beta1) * (g - state["exp_avg"])
            xp.maximum(beta2 * state["exp_inf"], xp.abs(g) + group["eps"], out=state["exp_inf"])
            step_size = group["lr"] / (1 - beta1 ** state["step"])
            p._data -= step_size * (state["exp_avg"] / state["exp_inf"])
            p._mark_written()                 # an in-place write: its version goes up
        return loss
