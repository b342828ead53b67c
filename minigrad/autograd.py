"""The whole autograd engine: recording the graph, walking it backwards, and checking it.

An op is a subclass of ``Function`` with two static methods that work on raw arrays
(NumPy on the CPU, CuPy on the GPU)::

    class Exp(Function):
        @staticmethod
        def forward(ctx, x):              # y = e^x
            y = get_array_module(x).exp(x)
            ctx.save_for_backward(y)
            return y

        @staticmethod
        def backward(ctx, grad):          # dL/dx = dL/dy · e^x
            (y,) = ctx.saved_tensors
            return grad * y

1. **Record.** ``Exp.apply(t)`` runs ``forward`` on ``t``'s array and, when some input
   requires grad (and grad mode is on), returns a Tensor whose ``grad_fn`` is the context:
   the node of the graph, holding its input tensors and their nodes at that moment (the
   edges) and what it saved.
2. **Walk.** ``backward(root, grad)`` orders the nodes so that each comes after every node
   that uses its output, then visits them in that order, calling each node's backward.
3. **Accumulate.** Each input's gradient is added to what it has received so far; a leaf
   that requires grad keeps its sum in ``.grad`` (so it accumulates across calls).
4. **Free.** After a node's backward ran, what it saved is dropped (unless
   ``retain_graph``), so memory is given back as the walk goes.

In-place ops (``x += 1``, ``x[i] = v``, ``p.sub_(...)``) write into a tensor's array. Every
array belongs to a ``Version`` counter, shared by a tensor and its views and bumped by each
in-place write; a node remembers the version of every tensor whose array it saved, and its
backward refuses to run on values that changed since (PyTorch's rule; see docs/autograd.md).

``grad(outputs, inputs)`` walks the same way but hands the gradients back instead of adding
them to ``.grad``, running only the nodes that lead to ``inputs``.

Gradients are arrays, not Tensors, so the backward pass itself is never recorded: minigrad
does not do higher-order derivatives. A hook (``Tensor.register_hook``) sees the gradient
as a Tensor and may return a new one; a leaf's hooks see its gradient summed over the
whole pass, as PyTorch's do. ``gradcheck`` at the end checks an op's backward
against finite differences.
"""
import contextlib
import functools
import warnings

import numpy as np

from . import debug
from ._dtype import tensor_type_name
from .device import device_of, get_array_module, on_gpu
from .gpu_state import CaptureError, capturing

# ---- grad mode ----------------------------------------------------------------------------
_grad_enabled = [True]


def is_grad_enabled():
    return _grad_enabled[-1]


class _GradMode(contextlib.ContextDecorator):
    enabled = True

    def __enter__(self):
        _grad_enabled.append(self.enabled)

    def __exit__(self, *exc):
        _grad_enabled.pop()
        return False


class no_grad(_GradMode):
    """Context manager and decorator: ops inside record no graph (for evaluation)."""
    enabled = False


class enable_grad(_GradMode):
    """Turn graph recording back on inside a ``no_grad`` block."""
    enabled = True


class inference_mode(_GradMode):
    """Like ``no_grad`` (minigrad has no separate inference tensors): ops inside record no
    graph. ``inference_mode(False)`` changes nothing. A decorator with or without ()."""

    def __new__(cls, mode=True):
        if callable(mode):               # @inference_mode, without parentheses
            return cls()(mode)
        return super().__new__(cls)

    def __init__(self, mode=True):
        self.mode = bool(mode)

    def __enter__(self):
        _grad_enabled.append(False if self.mode else is_grad_enabled())


class set_grad_enabled:
    """Turn graph recording on or off: as a function call, from now on; as a context
    manager (``with set_grad_enabled(False):``), until the block ends."""

    def __init__(self, mode):
        if not isinstance(mode, bool):
            raise TypeError(f"set_grad_enabled expects a bool, got {type(mode).__name__}")
        self.mode, self.previous = mode, _grad_enabled[-1]
        _grad_enabled[-1] = mode

    def __call__(self, fn):
        """As a decorator (``@set_grad_enabled(False)``): the mode holds inside ``fn`` only."""
        _grad_enabled[-1] = self.previous            # undo what __init__ set
        mode = self.mode

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with set_grad_enabled(mode):
                return fn(*args, **kwargs)
        return wrapper

    def __enter__(self):
        return None

    def __exit__(self, *exc):
        _grad_enabled[-1] = self.previous
        return False


# Has any tensor had a hook (register_hook, retain_grad)? Until one has, backward skips the
# look for them at every node.
HOOKS_USED = [False]


# ---- 1. recording the graph ---------------------------------------------------------------
class Version:
    """How many in-place writes an array has had. A tensor and its views share one (they
    share memory), so a write through any of them is seen by all. ``rebased`` counts the
    writes that were recorded in the graph: they change the history of the values too."""

    __slots__ = ("value", "rebased")

    def __init__(self):
        self.value = 0
        self.rebased = 0


class Context:
    """One node of the graph: what an op remembers between its forward and its backward —
    the saved arrays, which inputs need a gradient, the input tensors and the nodes that made
    them (the edges), and the version of every tensor whose array it saved."""

    __slots__ = ("fn", "inputs", "parents", "needs_input_grad", "_saved", "_versions",
                 "freed", "__dict__")

    def __init__(self, fn, needs_input_grad):
        self.fn = fn
        self.needs_input_grad = needs_input_grad
        self.inputs = self.parents = self._saved = self._versions = ()
        self.freed = False

    def save_for_backward(self, *arrays):
        self._saved = arrays

    @property
    def saved_tensors(self):
        if self.freed:
            self.check_not_freed()
        for version, expected, array, made_by in self._versions:
            if version.value != expected:
                kind = tensor_type_name(array.dtype, device_of(array).type)
                which = f", which is output 0 of {made_by}," if made_by else ""
                raise RuntimeError(
                    "one of the variables needed for gradient computation has been modified "
                    f"by an inplace operation: [{kind} {list(array.shape)}]{which} is at "
                    f"version {version.value}; "
                    f"expected version {expected} instead. Hint: the in-place op came after "
                    f"{self.fn.__name__} used the tensor; do it out of place (y = y + 1), or "
                    "on a .clone(), or after backward().")
        return self._saved

    def track_saved(self, tensors, roots=None):
        """Remember the version of each of ``tensors`` (the op's inputs and output) whose
        array, or a view of it, was saved: an in-place write to it later is an error when
        the backward unpacks what it saved. Arrays private to the op are not tracked.
        (``roots``: the tensors' storage roots, when known.)"""
        saved = set()
        for a in self._saved:
            base = getattr(a, "base", None)        # (None also for what is not an array)
            saved.add(id(a if base is None else storage_root(base)))
        versions = []
        for t, root in zip(tensors, roots or [storage_root(t._data) for t in tensors]):
            if id(root) in saved:
                counter = t._version_counter
                versions.append((counter, counter.value, t._data,       # the array and the
                                 t.grad_fn.fn.__name__ if t.grad_fn is not None else None))
        self._versions = tuple(versions)                                # op: for the message

    def check_not_freed(self):
        if self.freed:
            raise RuntimeError(
                f"Trying to backward through {self.name} a second time: its saved values were "
                "freed after the first backward. Pass retain_graph=True to the first "
                "backward() if you need to backpropagate through the graph twice.")

    def release(self):
        """Drop the saved arrays (called after the backward ran, unless retain_graph). A
        node that saved nothing can run again, as in PyTorch."""
        if self._saved:
            self._saved = self._versions = ()
            self.freed = True

    @property
    def name(self):
        return f"{self.fn.__name__}Backward"

    def __repr__(self):
        return f"<{self.name}>"


def storage_root(array):
    """The array that owns the memory ``array`` sees (itself unless it is a view)."""
    base = getattr(array, "base", None)
    while base is not None:
        array, base = base, getattr(base, "base", None)
    return array


class Function:
    """Base class of every differentiable op; see the module docstring.

    ``fresh_grads``: True when ``backward`` returns only new arrays that nothing else holds
    (a backend kernel's outputs): a leaf then keeps such a gradient as its ``.grad`` as it is,
    without the copy an array the graph might still use needs."""

    fresh_grads = False

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError

    @staticmethod
    def backward(ctx, grad):
        raise NotImplementedError

    @classmethod
    def apply(cls, *inputs, **params):
        Tensor, as_tensor = _TENSOR_API or _tensor_api()
        tensors, arrays, needs, parents = [], [], [], []    # (one pass: every op runs this)
        roots = []                                          # the memory each tensor sees
        for x in inputs:
            if isinstance(x, Tensor):
                tensors.append(x)
                arrays.append(x._data)
                needs.append(x._requires_grad)
                parents.append(x.grad_fn)
                roots.append(x._data if x._data.base is None else storage_root(x._data))
            else:
                arrays.append(x)
                needs.append(False)
                parents.append(None)
        if len(tensors) > 1:
            check_same_device(cls.__name__, tensors)
        recording = _grad_enabled[-1]
        if recording:
            for t in tensors:
                if t._base is not None:
                    t._check_view_current()
        ctx = Context(cls, tuple(needs))
        try:
            out = as_tensor(cls.forward(ctx, *arrays, **params) if not debug.ENABLED
                            else debug.forward(cls, ctx, arrays, params))   # MINIGRAD_DEBUG=1
        except Exception as e:
            if capturing():               # say which op could not be captured
                raise CaptureError(f"during CUDA graph capture, {cls.__name__} failed: "
                                   f"{e}") from e
            raise
        root = out._data if out._data.base is None else storage_root(out._data)
        out._share_storage_with(tensors, roots, root)
        if recording and True in needs:
            ctx.inputs = tuple(x if isinstance(x, Tensor) else None for x in inputs) \
                if len(tensors) < len(inputs) else inputs
            ctx.parents = tuple(parents)
            out.grad_fn = ctx
            out._requires_grad = True
            if ctx._saved:
                tensors.append(out)
                roots.append(root)
                ctx.track_saved(tensors, roots)
        return out


def _tensor_api():
    """(Tensor, as_tensor) from tensor.py, which imports this module: imported on first use,
    then kept (an import statement inside a function costs microseconds at every call, and
    every op calls this)."""
    if not _TENSOR_API:
        from .tensor import Tensor, as_tensor
        _TENSOR_API.extend((Tensor, as_tensor))
    return _TENSOR_API


_TENSOR_API = []


def check_same_device(op, tensors):
    if len(tensors) < 2:
        return
    kind = type(tensors[0]._data)
    for t in tensors:
        if type(t._data) is not kind and on_gpu(t._data) is not on_gpu(tensors[0]._data):
            devices = {t.device.type for t in tensors}
            raise RuntimeError(f"{op}: expected all tensors on the same device, got "
                               f"{' and '.join(sorted(devices))}; move them with .to(device)")


# ---- 2-4. walking it backwards --------------------------------------------------------------
def backward(root, grad, retain_graph=False):
    """Backpropagate the array ``grad`` (d loss / d root) from the Tensor ``root``.

    1. Order the graph's nodes so that every node comes after all the nodes that use its
       output (an iterative depth-first search: no recursion, so any depth works).
    2. Visit them in that order, each node's gradient complete by then: call its backward,
       and add each input's gradient to what that input has received so far (a leaf's into
       ``.grad``).
    3. Free each node's saved arrays after its backward, unless ``retain_graph``.
    """
    if root.grad_fn is None:                       # a leaf: its gradient is the seed itself
        accumulate_into_leaf(root, run_hooks(root, grad))
        return
    walk(graph_order([root.grad_fn]), {id(root.grad_fn): grad}, retain_graph)


def graph_order(nodes):
    """The nodes reachable from ``nodes``, each after all the nodes that make its inputs
    (so ``reversed()`` of it visits a node after every node that uses its output)."""
    order, seen, stack = [], set(), [(node, False) for node in nodes]
    while stack:
        node, inputs_done = stack.pop()
        if inputs_done:
            order.append(node)
            continue
        if id(node) in seen:
            continue
        seen.add(id(node))
        stack.append((node, True))
        for parent in node.parents:
            if parent is not None and id(parent) not in seen:
                stack.append((parent, False))
    return order


def walk(order, pending, retain_graph, to_leaf=None, hooks=None):
    """Steps 2 and 3 of ``backward``: visit ``reversed(order)``, starting from the gradients
    in ``pending`` (node id -> array). ``hooks``: look for hooks at every node (by default
    only once some tensor has had one). A leaf's gradient goes to ``to_leaf(leaf, array,
    fresh)`` when given (which then runs the leaf's hooks itself), else into its ``.grad``
    after its hooks."""
    hooked_leaves = {}                  # id -> (leaf, its summed gradient): hooks see the sum
    leaf_hooks = HOOKS_USED[0] and to_leaf is None
    hooks = HOOKS_USED[0] if hooks is None else hooks
    to_leaf = to_leaf or accumulate_into_leaf
    for node in reversed(order):
        fresh = node.fn.fresh_grads
        g = pending.pop(id(node))
        if hooks and ("_grad_hooks" in node.__dict__ or "_retained" in node.__dict__):
            g = run_hooks(node, g)
            for t in node.__dict__.get("_retained", ()):        # retain_grad()
                accumulate_into_leaf(t, g)
        try:
            grads = node.fn.backward(node, g) if not debug.ENABLED else debug.backward(node, g)
        except Exception as e:
            if capturing():
                raise CaptureError(f"during CUDA graph capture, {node.name} failed: {e}") \
                    from e
            raise
        if not isinstance(grads, tuple):
            grads = (grads,)
        for t, parent, gi, needed in zip(node.inputs, node.parents, grads,
                                         node.needs_input_grad):
            if not needed or gi is None:
                continue
            data = t._data
            if gi.shape != data.shape:
                raise RuntimeError(f"internal error: {node.name} returned a gradient of shape "
                                   f"{tuple(gi.shape)} for an input of shape {t.shape}")
            if gi.dtype != data.dtype:
                gi = gi.astype(data.dtype)
                fresh = True
            if parent is None and leaf_hooks and "_grad_hooks" in t.__dict__:
                key = id(t)
                hooked_leaves[key] = (t, hooked_leaves[key][1] + gi if key in hooked_leaves
                                      else gi)
            elif parent is None:
                to_leaf(t, gi, fresh)
            else:
                key = id(parent)
                pending[key] = pending[key] + gi if key in pending else gi
        if not retain_graph:
            node.release()
    for t, g in hooked_leaves.values():
        accumulate_into_leaf(t, run_hooks(t, g))


def run_hooks(owner, grad):
    """The gradient after the hooks ``register_hook`` put on ``owner`` (a leaf tensor, or
    the node that made a non-leaf one): each is called with it as a Tensor, and a Tensor it
    returns replaces it."""
    as_tensor = _tensor_api()[1]
    for hook in list(owner.__dict__.get("_grad_hooks", ())):
        new = hook(as_tensor(grad))
        if new is not None:
            if not hasattr(new, "_data") or new.shape != tuple(grad.shape):
                raise RuntimeError(f"hook {getattr(hook, '__name__', hook)!r} returned "
                                   f"{type(new).__name__} of shape "
                                   f"{getattr(new, 'shape', None)}; expected a Tensor of "
                                   f"shape {tuple(grad.shape)}")
            grad = new._data.astype(grad.dtype, copy=False)
    return grad


def accumulate_into_leaf(t, g, fresh=False):
    """leaf.grad += g. The first gradient becomes ``.grad``: as it is when ``fresh`` (a new
    array nothing else holds), else as a copy (it may be an array the graph still uses).
    Later ones are added to it. A gradient made during a CUDA graph capture lives in the
    graph's memory, which the graph's replays write: it is marked ``_graph_owned``, zeroed
    rather than dropped by ``zero_grad`` and added to in place, so it keeps that memory."""
    if t._grad is None:             # (shape, dtype and device are right: no setter checks)
        grad = t._grad = (_TENSOR_API or _tensor_api())[0]._wrap(
            g if fresh else g.astype(t.dtype, copy=True))
        if capturing():
            grad._graph_owned = True
    elif t._grad._graph_owned:
        get_array_module(g).add(t.grad._data, g, out=t.grad._data)
    else:
        t.grad._data = t.grad._data + g


_seeds = {}


def ones_seed(xp, shape, dtype):
    """The gradient d root / d root = 1 that starts ``backward()`` of a one-element tensor.
    A constant kept per (device, shape, dtype), so a step makes no array for it; never
    written (backward functions do not write into their gradient). One made during a capture
    holds nothing until a replay, so it is not kept."""
    key = (xp.__name__, shape, dtype.str)
    seed = _seeds.get(key)
    if seed is None:
        seed = xp.ones(shape, dtype=dtype)
        if not capturing():
            _seeds[key] = seed
    return seed


# ---- autograd.grad: the gradients as results, not into .grad -----------------------------
def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
         only_inputs=True, allow_unused=None, is_grads_batched=False,
         materialize_grads=False):
    """The gradients of ``outputs`` with respect to ``inputs``, a tuple of Tensors, like
    ``torch.autograd.grad``: for each input x the vector-Jacobian product

        Σᵢ grad_outputsᵢ · ∂outputsᵢ/∂x

    (a ``grad_outputs`` entry may be None for a one-element output: it is then 1). No leaf's
    ``.grad`` changes (a ``retain_grad()`` tensor on the way still gets its ``.grad``, as
    in PyTorch), only the nodes that lead to ``inputs`` run, and ``inputs`` may be leaves or
    tensors made by ops. An input the outputs do not depend on is an error, unless
    ``allow_unused`` (its gradient is then None) or ``materialize_grads`` (zeros).
    ``retain_graph`` (default False) keeps what the nodes that ran saved.

    First order only: the results have no history, and ``create_graph=True`` (which
    higher-order derivatives need) is a NotImplementedError.
    """
    Tensor = _tensor_api()[0]
    if create_graph:
        raise NotImplementedError(
            "minigrad.autograd.grad: create_graph=True is not supported: minigrad has no "
            "higher-order derivatives (its backward pass works on plain arrays and is not "
            "recorded), so a gradient cannot be differentiated again")
    if is_grads_batched:
        raise NotImplementedError("minigrad.autograd.grad: is_grads_batched=True is not "
                                  "supported; call grad once per row of grad_outputs "
                                  "(with retain_graph=True)")
    if materialize_grads and allow_unused is False:
        raise ValueError("Expected allow_unused to be True or not passed when "
                         "materialize_grads=True, but got: allow_unused=False.")
    if not only_inputs:
        warnings.warn("only_inputs argument is deprecated and is ignored now (defaults to "
                      "True). To accumulate gradient for other parts of the graph, please "
                      "use torch.autograd.backward.", FutureWarning, stacklevel=2)
    outputs, inputs = _tensors(outputs, "outputs"), _tensors(inputs, "inputs")
    if not inputs:
        raise RuntimeError("`inputs` argument to `grad()` cannot be empty.")
    pending, leaf_grads = {}, {}        # node id -> gradient; leaf id -> gradient
    for i, (y, g) in enumerate(zip(outputs, _grad_outputs(grad_outputs, outputs))):
        if not y.requires_grad:
            raise RuntimeError(f"element {i} of tensors does not require grad and does not "
                               "have a grad_fn")
        sums, key = (leaf_grads, id(y)) if y.grad_fn is None else (pending, id(y.grad_fn))
        sums[key] = sums[key] + g if key in sums else g
    if any(not x.requires_grad for x in inputs):
        raise RuntimeError("One of the differentiated Tensors does not require grad")

    wanted_leaves = {id(x): x for x in inputs if x.grad_fn is None}
    leaf_grads = {k: g for k, g in leaf_grads.items() if k in wanted_leaves}

    def to_leaf(t, g, fresh=False):
        key = id(t)
        if key in wanted_leaves:
            leaf_grads[key] = leaf_grads[key] + g if key in leaf_grads else g

    captured = {}                       # id of the node that made an input -> its gradient
    capture_hooks = [(x.grad_fn, _capture(captured, x.grad_fn)) for x in inputs
                     if x.grad_fn is not None]
    for node, hook in capture_hooks:    # after the user's hooks: they see the final gradient
        node.__dict__.setdefault("_grad_hooks", []).append(hook)
    try:
        order = _leading_to(graph_order([y.grad_fn for y in outputs if y.grad_fn is not None]),
                            wanted_leaves, {id(node) for node, _ in capture_hooks})
        walk(order, pending, bool(retain_graph), to_leaf,   # (None: False, as create_graph)
             hooks=HOOKS_USED[0] or bool(capture_hooks))
    finally:
        for node, hook in capture_hooks:
            node.__dict__["_grad_hooks"].remove(hook)
            if not node.__dict__["_grad_hooks"]:
                del node.__dict__["_grad_hooks"]

    for key, g in leaf_grads.items():               # a leaf's hooks see its whole sum
        leaf_grads[key] = run_hooks(wanted_leaves[key], g)
    results = []
    for i, x in enumerate(inputs):
        g = leaf_grads.get(id(x)) if x.grad_fn is None else captured.get(id(x.grad_fn))
        if g is not None:
            results.append(Tensor._wrap(g.astype(x.dtype, copy=True)))
        elif materialize_grads:
            results.append(Tensor._wrap(x.xp.zeros_like(x._data)))
        elif allow_unused:
            results.append(None)
        else:
            raise RuntimeError(f"The differentiated Tensor at index {i} appears to not have "
                               "been used in the graph. Set allow_unused=True if this is the "
                               "desired behavior.")
    return tuple(results)


def _tensors(xs, what):
    """``outputs`` or ``inputs`` of ``grad`` as a tuple of Tensors."""
    Tensor = _tensor_api()[0]
    xs = (xs,) if isinstance(xs, Tensor) else tuple(xs)
    for x in xs:
        if not isinstance(x, Tensor):
            raise (RuntimeError if what == "inputs" else TypeError)(    # PyTorch's types
                f"all {what} have to be Tensors, but got {type(x).__name__}")
    return xs


def _grad_outputs(grad_outputs, outputs):
    """The arrays that start ``grad``'s walk, one per output: 1 for a one-element output
    without one."""
    from .tensor import Tensor, to_array
    if grad_outputs is None:
        grad_outputs = (None,) * len(outputs)
    elif isinstance(grad_outputs, Tensor):
        grad_outputs = (grad_outputs,)
    grad_outputs = tuple(grad_outputs)
    if len(grad_outputs) != len(outputs):
        raise RuntimeError(f"got {len(outputs)} tensors and {len(grad_outputs)} gradients")
    seeds = []
    for i, (y, g) in enumerate(zip(outputs, grad_outputs)):
        if g is None:
            if y.numel() != 1:
                raise RuntimeError("grad can be implicitly created only for scalar outputs")
            seeds.append(ones_seed(y.xp, y._data.shape, y.dtype))
            continue
        g = to_array(g, y.dtype)
        if g.shape != y._data.shape:
            raise RuntimeError(f"Mismatch in shape: grad_output[{i}] has a shape of "
                               f"{tuple(g.shape)} and output[{i}] has a shape of {y.shape}.")
        check_same_device("grad", [y, Tensor._wrap(g)])
        seeds.append(g)
    return seeds


def _capture(captured, node):
    """A hook that keeps the gradient of ``node``'s output in ``captured``."""
    def hook(g):
        captured[id(node)] = g._data
    return hook


def _leading_to(order, leaf_ids, node_ids):
    """The nodes of ``order`` (``graph_order``'s) with a path to a leaf in ``leaf_ids`` or
    to a node in ``node_ids``: the only ones ``grad`` needs to run."""
    kept, keep = [], set(node_ids)
    for node in order:                  # a node's parents come before it
        if id(node) in keep or any(
                needed and (id(p) in keep if p is not None else id(t) in leaf_ids)
                for t, p, needed in zip(node.inputs, node.parents, node.needs_input_grad)):
            keep.add(id(node))
            kept.append(node)
    return kept


# ---- checking it ----------------------------------------------------------------------------
class GradcheckError(AssertionError):
    pass


def gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, seed=0):
    """Check ``fn``'s gradients against central finite differences, like
    ``torch.autograd.gradcheck``.

    ``inputs`` is a sequence of Tensors (float64, on the CPU or GPU); those with
    ``requires_grad`` are checked. ``fn(*inputs)`` returns a Tensor ``y``. For a fixed random
    ``v`` the backward pass gives ``vᵀ·∂y/∂x`` for every input ``x``; the same vector is
    estimated element by element as

        ( v·fn(x + eps·eᵢ) − v·fn(x − eps·eᵢ) ) / (2·eps)

    and the two must agree within ``atol + rtol·|numerical|``. A single random projection
    tests every column of the Jacobian at once: a wrong gradient almost surely changes it.
    Returns True, or raises ``GradcheckError`` naming the input and the worst element.
    """
    from .tensor import Tensor, as_tensor
    inputs = list(inputs)
    checked = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]
    if not checked:
        raise ValueError("gradcheck: no input has requires_grad=True")
    for i in checked:
        if inputs[i].dtype != np.float64:
            raise TypeError(f"gradcheck: input {i} is {inputs[i].dtype}; finite differences "
                            "need float64 inputs")

    out = fn(*inputs)
    xp = get_array_module(out._data)
    v = xp.asarray(np.random.default_rng(seed).standard_normal(out.shape))
    for i in checked:
        inputs[i].grad = None
    out.backward(as_tensor(v.astype(out.dtype)))

    def projected(arrays):
        with no_grad():
            args = [as_tensor(a) if a is not None else x for a, x in zip(arrays, inputs)]
            return float((fn(*args)._data * v).sum())

    for i in checked:
        x = inputs[i]
        analytical = x.grad._data if x.grad is not None else xp.zeros_like(x._data)
        base = [t._data if isinstance(t, Tensor) else None for t in inputs]
        flat = x._data.copy().reshape(-1)
        numerical = np.empty(flat.size)
        for j in range(flat.size):
            orig = flat[j].item()
            flat[j] = orig + eps
            base[i] = flat.reshape(x.shape)
            plus = projected(base)
            flat[j] = orig - eps
            minus = projected(base)
            flat[j] = orig
            numerical[j] = (plus - minus) / (2 * eps)
        analytical = np.asarray(analytical.get() if xp is not np else analytical).reshape(-1)
        err = np.abs(analytical - numerical) - (atol + rtol * np.abs(numerical))
        if (err > 0).any() or not np.isfinite(analytical).all():
            j = int(np.nanargmax(np.where(np.isfinite(err), err, np.inf)))
            raise GradcheckError(
                f"gradcheck: gradient of input {i} (shape {tuple(x.shape)}) disagrees with "
                f"finite differences at flat index {j}: analytical {analytical[j]:.10g}, "
                f"numerical {numerical[j]:.10g}")
    return True
