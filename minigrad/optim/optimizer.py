"""What every optimizer shares: parameter groups, zero_grad, and state saving."""
import copy

from ..autograd import enable_grad
from ..tensor import Tensor, as_tensor


def closure_loss(closure):
    """PyTorch's ``step(closure)``: the closure clears the gradients, recomputes the loss and
    calls backward; it runs (with grad enabled) before the update, and step returns its loss."""
    if closure is None:
        return None
    with enable_grad():
        return closure()


class Optimizer:
    """Holds parameter groups (each a dict with "params" and hyper-parameters) and per-
    parameter state (a dict of arrays and numbers). Subclasses implement ``step``."""

    def __init__(self, params, defaults):
        if isinstance(params, Tensor) or isinstance(params, (set, dict)):
            raise TypeError("params argument given to the optimizer should be an iterable of "
                            f"Tensors or dicts, but got {_what(params)}")
        params = list(params)
        if not params:
            raise ValueError("optimizer got an empty parameter list")
        groups = params if isinstance(params[0], dict) else [{"params": params}]
        self.defaults = dict(defaults)
        self.param_groups = []
        seen = set()
        for g in groups:
            if not isinstance(g, dict):
                raise TypeError(f"optimizer: mixed parameter groups and tensors ({_what(g)})")
            tensors = g["params"]
            tensors = [tensors] if isinstance(tensors, Tensor) else list(tensors)
            for p in tensors:
                if not isinstance(p, Tensor):
                    raise TypeError(f"optimizer can only optimize Tensors, but one of the "
                                    f"params is {_what(p)}")
                if not p.is_leaf:
                    raise ValueError("can't optimize a non-leaf Tensor")
            if seen & {id(p) for p in tensors}:     # it would be stepped twice
                raise ValueError("some parameters appear in more than one parameter group")
            seen |= {id(p) for p in tensors}
            # parameters with requires_grad=False (a frozen layer) are kept: they get no
            # gradient, so step() leaves them alone, and unfreezing them later just works
            self.param_groups.append({**self.defaults, **g, "params": tensors})
        self.state = {}        # param -> dict of its state (arrays and numbers), as PyTorch

    def _params(self):
        for group in self.param_groups:
            for p in group["params"]:
                yield group, p

    def _stepped(self, new_state):
        """(group, p, state, g) for each parameter with a gradient: its state (made by
        ``new_state(group, p)`` at its first step) with the step count advanced, and the gradient
        to descend (negated under ``maximize``). The optimizers written as array-module code
        (Adagrad, Adamax, NAdam) update from these."""
        for group, p in self._params():
            if p.grad is None:
                continue
            state = self.state.get(p)
            if state is None:
                state = self.state[p] = new_state(group, p)
            state["step"] += 1
            yield group, p, state, -p.grad._data if group["maximize"] else p.grad._data

    def zero_grad(self, set_to_none=True):
        """Drop every gradient (or zero it, with set_to_none=False). A gradient a CUDA graph
        writes (made during its capture) is zeroed in place instead: dropping it would leave
        ``.grad`` unset while the graph's replays keep filling that memory."""
        for _, p in self._params():
            clear_grad(p, set_to_none)

    def step(self):
        raise NotImplementedError

    def state_dict(self):
        """{"state": {index: {name: Tensor or number}}, "param_groups": [...]} with
        parameters numbered in order, as PyTorch does."""
        index, state = 0, {}
        groups = []
        for group in self.param_groups:
            ids = []
            for p in group["params"]:
                if p in self.state:
                    state[index] = {k: as_tensor(v) if hasattr(v, "shape") and v.ndim else v
                                    for k, v in self.state[p].items()}
                ids.append(index)
                index += 1
            groups.append({**{k: copy.deepcopy(v) for k, v in group.items() if k != "params"},
                           "params": ids})
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict):
        """Restore hyper-parameters and state saved by ``state_dict``; the values are copied
        onto each parameter's device and dtype."""
        try:
            groups, state = state_dict["param_groups"], state_dict["state"]
        except (KeyError, TypeError):
            raise ValueError("optimizer state_dict must have 'state' and 'param_groups'") from None
        sizes = [len(g["params"]) for g in groups]
        if sizes != [len(g["params"]) for g in self.param_groups]:
            raise ValueError("loaded optimizer state has a different number of parameter groups "
                             "or parameters than this optimizer")
        self.state = {}
        for saved, own in zip(groups, self.param_groups):
            own.update({k: v for k, v in saved.items() if k != "params"})
            for i, p in zip(saved["params"], own["params"]):
                entry = state.get(i, state.get(str(i)))
                if entry is None:
                    continue
                restored = {}
                for k, v in entry.items():
                    if isinstance(v, Tensor) or hasattr(v, "shape") and getattr(v, "ndim", 0):
                        array = v._data if isinstance(v, Tensor) else v
                        if tuple(array.shape) != p.shape:
                            raise ValueError(f"optimizer state {k!r} of parameter {i} has shape "
                                             f"{tuple(array.shape)}, the parameter {p.shape}")
                        restored[k] = p.xp.array(array.get() if hasattr(array, "get") else array,
                                                 dtype=p.dtype)
                    else:
                        restored[k] = v
                self.state[p] = restored


def clear_grad(p, set_to_none):
    """zero_grad for one parameter (Optimizer.zero_grad and Module.zero_grad)."""
    grad = p._grad
    if grad is None:
        return
    if set_to_none and not grad._graph_owned:
        p._grad = None
    else:
        grad._data.fill(0)


def _what(obj):
    """How PyTorch names an argument's type in optimizer errors."""
    if isinstance(obj, Tensor):
        from ..tensor import type_name
        return type_name(obj)
    return type(obj).__name__
