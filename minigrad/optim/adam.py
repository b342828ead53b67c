from ..backend import backend_of
from ..device import on_gpu
from ..gpu_state import refuse_during_capture
from .optimizer import Optimizer, closure_loss


class Adam(Optimizer):
    """Adam (Kingma & Ba), PyTorch's update rule; the arithmetic is ``adam_multi`` of the
    parameters' backend: on the GPU two launches for all the tensors of a group (see
    ``backend/cuda/optim.py``), on the CPU the CPU form's ``adam_step`` for each in turn.

    Each parameter's step count lives with its moments, on its device (a 0-d float64 array,
    PyTorch's ``capturable`` behaviour), and the step advances it there: a CUDA graph that
    captured ``step()`` replays step t+1, t+2, ..., never step t again. ``state_dict()`` gives
    the count as an int, as before."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 amsgrad=False):
        if amsgrad:
            raise NotImplementedError(f"{type(self).__name__}(amsgrad=True) is not supported "
                                      "in minigrad; leave amsgrad at False")
        if lr < 0 or eps < 0 or weight_decay < 0 or not all(0 <= b < 1 for b in betas):
            raise ValueError(f"Adam: invalid hyper-parameters lr={lr}, betas={betas}, eps={eps}, "
                             f"weight_decay={weight_decay}")
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps,
                                      weight_decay=weight_decay))

    def step(self, closure=None):
        loss = closure_loss(closure)
        for group in self.param_groups:
            by_device, written = {}, []           # on the GPU? -> (params, grads, m, v, t)
            for p in group["params"]:
                if p._grad is None:
                    continue
                state = self._state(p)
                lists = by_device.setdefault(on_gpu(p._data), ([], [], [], [], []))
                for kept, a in zip(lists, (p._data, p._grad._data, state["exp_avg"],
                                           state["exp_avg_sq"], state["step"])):
                    kept.append(a)
                written.append(p)
            beta1, beta2 = group["betas"]
            for params, grads, exp_avgs, exp_avg_sqs, steps in by_device.values():
                backend_of(params[0]).adam_multi(
                    params, grads, exp_avgs, exp_avg_sqs, steps, group["lr"], beta1, beta2,
                    group["eps"], group["weight_decay"])
            for p in written:
                p._mark_written()                 # an in-place write: its version goes up
        return loss

    def _state(self, p):
        state = self.state.get(p)
        if state is None or not hasattr(state["step"], "shape"):
            refuse_during_capture(
                "Adam's first step (or first after load_state_dict: it puts the moments and "
                "the step count on the device)",
                "state made during a capture would be reset by every replay; run a step "
                "before capturing (warm up)")
        if state is None:
            xp = p.xp
            state = self.state[p] = {"step": xp.zeros((), dtype="float64"),
                                         "exp_avg": xp.zeros_like(p._data),
                                         "exp_avg_sq": xp.zeros_like(p._data)}
        elif not hasattr(state["step"], "shape"):       # a count loaded as a number
            state["step"] = p.xp.full((), float(state["step"]), dtype="float64")
        return state

    def state_dict(self):
        saved = super().state_dict()
        for entry in saved["state"].values():
            if hasattr(entry.get("step"), "shape"):
                entry["step"] = int(entry["step"].item())
        return saved
