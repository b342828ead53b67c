from .adam import Adam
from .optimizer import closure_loss


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter 2019), PyTorch's rule: first
    shrink the parameter, then take a plain Adam step (weight decay 0):

        p ← p·(1 − lr·weight_decay)
        p ← Adam(p, grad)

    Adam's own ``weight_decay`` adds weight_decay·p to the gradient instead, which Adam's
    per-element scaling then distorts. The decay is its own pass (one multiply, generic
    array code: one CuPy kernel on the GPU), and the Adam step is ``Adam.step`` — the one
    Adam of the code base and its kernel, unchanged — run with each group's weight_decay
    set to 0 for its duration."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
                 amsgrad=False):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                         amsgrad=amsgrad)

    def step(self, closure=None):
        loss = closure_loss(closure)
        for group, p in self._params():
            if p.grad is not None and group["weight_decay"]:
                p._data *= 1 - group["lr"] * group["weight_decay"]
        decays = [group["weight_decay"] for group in self.param_groups]
        try:
            for group in self.param_groups:
                group["weight_decay"] = 0
            super().step()
        finally:
            for group, decay in zip(self.param_groups, decays):
                group["weight_decay"] = decay
        return loss
