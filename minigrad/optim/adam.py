from ..backend import backend_of
from .optimizer import Optimizer


class Adam(Optimizer):
    """Adam (Kingma & Ba), PyTorch's update rule; the arithmetic is ``backend.adam_step``,
    one fused pass (one kernel on the GPU) per parameter."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0):
        if lr < 0 or eps < 0 or weight_decay < 0 or not all(0 <= b < 1 for b in betas):
            raise ValueError(f"Adam: invalid hyper-parameters lr={lr}, betas={betas}, eps={eps}, "
                             f"weight_decay={weight_decay}")
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps,
                                      weight_decay=weight_decay))

    def step(self):
        for group, p in self._params():
            if p.grad is None:
                continue
            state = self.state.get(id(p))
            if state is None:
                state = self.state[id(p)] = {"step": 0, "exp_avg": p.xp.zeros_like(p.data),
                                             "exp_avg_sq": p.xp.zeros_like(p.data)}
            state["step"] += 1
            beta1, beta2 = group["betas"]
            backend_of(p.data).adam_step(p.data, p.grad.data, state["exp_avg"],
                                        state["exp_avg_sq"], state["step"], group["lr"],
                                        beta1, beta2, group["eps"], group["weight_decay"])
            p._mark_written()                 # an in-place write: its version goes up
