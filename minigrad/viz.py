"""Draw the graph that autograd recorded: as Graphviz DOT text, or as plain text.

``dot(loss)`` walks back from a tensor exactly as ``backward`` will: from its ``grad_fn``
(the op that made it) to that op's input tensors, and on to the ops that made those. Tensors
are ellipses labelled with their shape and dtype; ops are boxes. Leaves that require grad —
the parameters, which ``backward`` fills with ``.grad`` — are drawn green; tensors that need
no gradient (the input images, the labels) grey. A small tensor (at most ``values``
elements, 6 by default) shows its values too, and its ``.grad`` once ``backward`` has filled
it, as micrograd's pictures do:

    a = mg.tensor(2.0, requires_grad=True)
    b = mg.tensor(-3.0, requires_grad=True)
    loss = (a * b + a).sigmoid()
    loss.backward()
    print(mg.viz.dot(loss))             # a's node: "data 2", "grad -0.03533"

As in PyTorch, only leaves keep a gradient: an intermediate tensor shows its values, not
its gradient (``backward`` passes it on and forgets it).

``text(loss)`` is the same walk as an indented tree that needs nothing to read;
``render(loss, path)`` runs Graphviz's ``dot`` program (PNG or SVG) and, where it is not
installed, writes that text instead and says so.
"""
import shutil
import subprocess
import warnings
from pathlib import Path

import numpy as np

from .tensor import Tensor

LEAF_WITH_GRAD = 'style=filled, fillcolor="#c8e6c9"'
NO_GRAD = 'style=filled, fillcolor="#eeeeee"'
OP = 'shape=box, style="rounded,filled", fillcolor="#bbdefb"'
VALUES = 6              # tensors with at most this many elements show their values


def dot(tensor, params=None, rankdir="TB", values=VALUES):
    """The DOT text of the graph that produced ``tensor``.

    ``params``: an optional {name: tensor} mapping (``dict(model.named_parameters())``) to
    label parameters by name. ``rankdir``: "TB" (inputs at the top) or "LR". ``values``:
    tensors of at most this many elements show their data and gradient (0: never)."""
    names = _names(tensor, params)
    node = _Numbering()                      # t0, t1, ... and op0, op1, ...: the same text
    lines = ["digraph minigrad {", f"  rankdir={rankdir};",
             '  node [fontname="Helvetica", fontsize=10];']
    for t, op in _walk(tensor):
        if op is None:                       # a tensor, first seen
            label = _tensor_label(t, names, values).replace("\n", "\\n")
            lines.append(f"  {node('t', t)} [label=\"{label}\", {_tensor_style(t)}];")
            if t.grad_fn is not None:
                lines.append(f"  {node('op', t.grad_fn)} -> {node('t', t)};")
        else:                                # an op, first seen, and its inputs
            lines.append(f"  {node('op', op)} [label=\"{op.fn.__name__}\", {OP}];")
            for inp in op.inputs:
                if inp is not None:
                    lines.append(f"  {node('t', inp)} -> {node('op', op)};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def text(tensor, params=None, values=VALUES):
    """The graph as an indented tree of text, the output at the top and each op's inputs
    below it: what ``dot`` draws, readable without Graphviz. A tensor reached a second time
    (used by two ops) is shown once and then referred to as ``(see above)``."""
    names = _names(tensor, params)
    out, seen = [], set()
    stack = [(tensor, "", "")]               # (tensor, prefix of its line, prefix below it)
    while stack:
        t, first, rest = stack.pop()
        label = _tensor_label(t, names, values).replace("\n", " · ")
        if id(t) in seen:
            out.append(f"{first}{label} (see above)")
            continue
        seen.add(id(t))
        op = t.grad_fn
        kind = "" if op is None else f"{op.fn.__name__} → "
        out.append(f"{first}{kind}{label}")
        if op is None:
            continue
        inputs = [inp for inp in op.inputs if inp is not None]
        for k, inp in reversed(list(enumerate(inputs))):     # the first input printed first
            last = k == len(inputs) - 1
            stack.append((inp, rest + ("└─ " if last else "├─ "),
                          rest + ("   " if last else "│  ")))
    return "\n".join(out) + "\n"


class _Numbering:
    """Node names in the order of first mention (``t0``, ``op0``, ``t1`` ...), so that one
    graph always gives the same text, whatever the objects' addresses."""
    def __init__(self):
        self.numbers = {}

    def __call__(self, kind, obj):
        key = (kind, id(obj))
        if key not in self.numbers:
            self.numbers[key] = sum(k == kind for k, _ in self.numbers)
        return f"{kind}{self.numbers[key]}"


def _names(tensor, params):
    if not isinstance(tensor, Tensor):
        raise TypeError(f"viz expects a minigrad Tensor, got {type(tensor).__name__}")
    return {id(t): name for name, t in (params or {}).items()}


def _walk(tensor):
    """(tensor, None) for each tensor and (tensor, op) for each op of the graph, each once,
    depth-first from ``tensor`` without recursion."""
    seen_tensors, seen_ops = set(), set()
    stack = [tensor]
    while stack:
        t = stack.pop()
        if id(t) in seen_tensors:
            continue
        seen_tensors.add(id(t))
        yield t, None
        op = t.grad_fn
        if op is None or id(op) in seen_ops:
            continue
        seen_ops.add(id(op))
        yield t, op
        stack.extend(inp for inp in op.inputs if inp is not None)


def _tensor_label(t, names, values):
    """Lines: the name (a parameter), shape and dtype (and device), then for a small tensor
    its data and, when it has one, its gradient."""
    shape = "×".join(str(n) for n in t.shape) or "scalar"
    label = f"{shape}\n{t.dtype}"
    if t.device.type != "cpu":
        label += f" · {t.device}"
    if id(t) in names:
        label = f"{names[id(t)]}\n{label}"
    if 0 < t.numel() <= values:
        label += f"\ndata {_numbers(t)}"
        if t.grad is not None:
            label += f"\ngrad {_numbers(t.grad)}"
    return label


def _numbers(t):
    """A tensor's values, short: 4 significant digits, a scalar without brackets."""
    a = np.asarray(t.detach().cpu().numpy(), dtype=np.float64)
    text = np.array2string(a.ravel(), precision=4, separator=", ",
                           formatter={"float_kind": lambda v: f"{v:.4g}"})
    return text[1:-1] if a.ndim == 0 else text


def _tensor_style(t):
    if t.grad_fn is None:
        return LEAF_WITH_GRAD if t.requires_grad else NO_GRAD
    return 'style=""'


def render(tensor_or_dot, path, format="png", **kw):
    """Draw the graph into ``path`` (its extension replaced by ``format``: "png" or "svg")
    with Graphviz's ``dot`` program, and return the path written. Without Graphviz, writes
    ``text(tensor)`` to ``path`` with the extension ".txt" instead, warns, and returns that
    path (DOT text given as a string is written as it is)."""
    source = tensor_or_dot if isinstance(tensor_or_dot, str) else dot(tensor_or_dot, **kw)
    path = Path(path)
    program = shutil.which("dot")
    if program is None:
        fallback = path.with_suffix(".txt")
        kw.pop("rankdir", None)
        fallback.write_text(tensor_or_dot if isinstance(tensor_or_dot, str)
                            else text(tensor_or_dot, **kw))
        warnings.warn(f"viz.render: Graphviz's dot program is not installed (on Debian: "
                      f"apt-get install graphviz); wrote the graph as text to {fallback}",
                      stacklevel=2)
        return fallback
    target = path.with_suffix(f".{format}")
    subprocess.run([program, f"-T{format}", "-o", str(target)], input=source.encode(),
                   check=True)
    return target
