from .optimizer import Optimizer, closure_loss


class Adagrad(Optimizer):
    """Adagrad (Duchi, Hazan & Singer 2011), PyTorch's update rule: each element's step is
    divided by the root of the sum of all its squared gradients so far, so often-updated
    elements slow down. At step t (from 1):

        g    = grad + weight_decay·p                 (−grad first when ``maximize``)
        lr_t = lr / (1 + (t − 1)·lr_decay)
        sum += g²                                    (starts at initial_accumulator_value)
        p   −= lr_t · g / (√sum + eps)

    Array-module code (``p.xp`` is NumPy or CuPy): the same lines run on the CPU and the
    GPU, a few elementwise passes per parameter (no kernel of its own)."""

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0,
                 initial_accumulator_value=0, eps=1e-10, *, maximize=False):
        for name, value in (("learning rate", lr), ("lr_decay value", lr_decay),
                            ("weight_decay value", weight_decay),
                            ("initial_accumulator_value value", initial_accumulator_value),
                            ("epsilon value", eps)):
            if not 0.0 <= value:
                raise ValueError(f"Invalid {name}: {value}")
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value,
                                      eps=eps, maximize=maximize))

    def step(self, closure=None):
        loss = closure_loss(closure)
        for group, p, state, g in self._stepped(lambda group, p: {
                "step": 0, "sum": p.xp.full_like(p._data, group["initial_accumulator_value"])}):
            xp = p.xp
            if group["weight_decay"]:
                g = g + group["weight_decay"] * p._data
            lr_t = group["lr"] / (1 + (state["step"] - 1) * group["lr_decay"])
            state["sum"] += g * g
            p._data -= lr_t * g / (xp.sqrt(state["sum"]) + group["eps"])
            p._mark_written()                 # an in-place write: its version goes up
        return loss
