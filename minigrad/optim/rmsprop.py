from ..backend import backend_of
from .optimizer import Optimizer, closure_loss


class RMSprop(Optimizer):
    """RMSprop (Hinton's lecture 6e), PyTorch's update rule: the gradient divided by the
    root of a running mean of its square (minus the square of its running mean when
    ``centered``), optionally through a momentum buffer. The arithmetic is
    ``backend.rmsprop_step``, one fused pass (one kernel on the GPU) per parameter."""

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0,
                 centered=False):
        if lr < 0 or eps < 0 or weight_decay < 0 or momentum < 0 or alpha < 0:
            raise ValueError(f"RMSprop: invalid hyper-parameters lr={lr}, alpha={alpha}, "
                             f"eps={eps}, weight_decay={weight_decay}, momentum={momentum}")
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                                      momentum=momentum, centered=centered))

    def step(self, closure=None):
        loss = closure_loss(closure)
        for group, p in self._params():
            if p.grad is None:
                continue
            state = self.state.get(p)
            if state is None:
                state = self.state[p] = {"step": 0, "square_avg": p.xp.zeros_like(p._data)}
                if group["momentum"] > 0:
                    state["momentum_buffer"] = p.xp.zeros_like(p._data)
                if group["centered"]:
                    state["grad_avg"] = p.xp.zeros_like(p._data)
            state["step"] += 1
            backend_of(p._data).rmsprop_step(
                p._data, p.grad._data, state["square_avg"], state.get("grad_avg"),
                state.get("momentum_buffer"), group["lr"], group["alpha"], group["eps"],
                group["weight_decay"], group["momentum"], group["centered"])
            p._mark_written()                 # an in-place write: its version goes up
        return loss
