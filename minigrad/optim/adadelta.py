from ..backend import backend_of
from .optimizer import Optimizer, closure_loss


class Adadelta(Optimizer):
    """Adadelta (Zeiler 2012), PyTorch's update rule: each step is the gradient scaled by
    √(running mean of past steps²) / √(running mean of gradients²), so its size needs no
    tuning (lr = 1 is the default). The arithmetic is ``backend.adadelta_step``, one fused
    pass (one kernel on the GPU) per parameter."""

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0):
        if lr < 0 or eps < 0 or weight_decay < 0 or not 0 <= rho <= 1:
            raise ValueError(f"Adadelta: invalid hyper-parameters lr={lr}, rho={rho}, "
                             f"eps={eps}, weight_decay={weight_decay}")
        super().__init__(params, dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay))

    def step(self, closure=None):
        loss = closure_loss(closure)
        for group, p in self._params():
            if p.grad is None:
                continue
            state = self.state.get(p)
            if state is None:
                state = self.state[p] = {"step": 0,
                                             "square_avg": p.xp.zeros_like(p._data),
                                             "acc_delta": p.xp.zeros_like(p._data)}
            state["step"] += 1
            backend_of(p._data).adadelta_step(p._data, p.grad._data, state["square_avg"],
                                             state["acc_delta"], group["lr"], group["rho"],
                                             group["eps"], group["weight_decay"])
            p._mark_written()                 # an in-place write: its version goes up
        return loss
