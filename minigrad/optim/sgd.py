from .optimizer import Optimizer, closure_loss


class SGD(Optimizer):
    """Stochastic gradient descent with optional momentum, PyTorch's rule:

        g = grad + weight_decay·p
        buf = g at the first step, then momentum·buf + (1 − dampening)·g
        step = g + momentum·buf if nesterov else buf      (just g without momentum)
        p -= lr·step
    """

    def __init__(self, params, lr, momentum=0, dampening=0, weight_decay=0, nesterov=False):
        if lr < 0 or momentum < 0 or weight_decay < 0:
            raise ValueError(f"SGD: invalid hyper-parameters lr={lr}, momentum={momentum}, "
                             f"weight_decay={weight_decay}")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("SGD: nesterov needs momentum > 0 and dampening = 0")
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                      weight_decay=weight_decay, nesterov=nesterov))

    def step(self, closure=None):
        loss = closure_loss(closure)
        for group, p in self._params():
            if p.grad is None:
                continue
            g = p.grad._data
            if group["weight_decay"]:
                g = g + group["weight_decay"] * p._data
            momentum = group["momentum"]
            if momentum:
                state = self.state.setdefault(p, {})
                buf = state.get("momentum_buffer")
                if buf is None:
                    buf = state["momentum_buffer"] = g.copy()
                else:
                    buf *= momentum
                    buf += (1 - group["dampening"]) * g
                g = g + momentum * buf if group["nesterov"] else buf
            p._data -= group["lr"] * g
            p._mark_written()                 # an in-place write: its version goes up
        return loss
