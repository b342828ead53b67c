"""Draw the graph that autograd recorded, as Graphviz DOT text.

``dot(loss)`` walks back from a tensor exactly as ``backward`` will: from its ``grad_fn``
(the op that made it) to that op's input tensors, and on to the ops that made those. Tensors
are ellipses labelled with their shape and dtype; ops are boxes. Leaves that require grad —
the parameters, which ``backward`` fills with ``.grad`` — are drawn green; tensors that need
no gradient (the input images, the labels) grey.

    import minigrad as mg
    print(mg.viz.dot(loss, params=dict(net.named_parameters())))

The text needs nothing to produce. ``render`` turns it into SVG or PNG when the ``graphviz``
Python package and its ``dot`` program are installed (``pip install graphviz``).
"""
from .tensor import Tensor

LEAF_WITH_GRAD = 'style=filled, fillcolor="#c8e6c9"'
NO_GRAD = 'style=filled, fillcolor="#eeeeee"'
OP = 'shape=box, style="rounded,filled", fillcolor="#bbdefb"'


def dot(tensor, params=None, rankdir="TB"):
    """The DOT text of the graph that produced ``tensor``.

    ``params``: an optional {name: tensor} mapping (``dict(model.named_parameters())``) to
    label parameters by name. ``rankdir``: "TB" (inputs at the top) or "LR"."""
    if not isinstance(tensor, Tensor):
        raise TypeError(f"viz.dot expects a minigrad Tensor, got {type(tensor).__name__}")
    names = {id(t): name for name, t in (params or {}).items()}
    lines = ["digraph minigrad {", f"  rankdir={rankdir};",
             '  node [fontname="Helvetica", fontsize=10];']
    seen_tensors, seen_ops = set(), set()
    stack = [tensor]
    while stack:                              # depth-first, without recursion
        t = stack.pop()
        if id(t) in seen_tensors:
            continue
        seen_tensors.add(id(t))
        lines.append(f"  t{id(t)} [label=\"{_tensor_label(t, names)}\", {_tensor_style(t)}];")
        op = t.grad_fn
        if op is None:
            continue
        lines.append(f"  op{id(op)} -> t{id(t)};")
        if id(op) in seen_ops:
            continue
        seen_ops.add(id(op))
        lines.append(f"  op{id(op)} [label=\"{op.fn.__name__}\", {OP}];")
        for inp in op.inputs:
            if inp is not None:
                lines.append(f"  t{id(inp)} -> op{id(op)};")
                stack.append(inp)
    lines.append("}")
    return "\n".join(lines) + "\n"


def _tensor_label(t, names):
    shape = "×".join(str(n) for n in t.shape) or "scalar"
    label = f"{shape}\\n{t.dtype}"
    if t.device.type != "cpu":
        label += f" · {t.device}"
    if id(t) in names:
        label = f"{names[id(t)]}\\n{label}"
    return label


def _tensor_style(t):
    if t.grad_fn is None:
        return LEAF_WITH_GRAD if t.requires_grad else NO_GRAD
    return 'style=""'


def render(tensor_or_dot, path, format="svg", **kw):
    """Write the graph as an SVG or PNG file at ``path`` (without its extension, which
    ``format`` adds); needs the ``graphviz`` package and its ``dot`` program. Returns the
    path written."""
    text = tensor_or_dot if isinstance(tensor_or_dot, str) else dot(tensor_or_dot, **kw)
    try:
        import graphviz
    except ImportError:
        raise ImportError("viz.render needs the graphviz package (pip install graphviz) and "
                          "Graphviz's dot program; viz.dot gives the text without them") from None
    try:
        return graphviz.Source(text).render(str(path), format=format, cleanup=True)
    except graphviz.ExecutableNotFound:
        raise RuntimeError("viz.render: Graphviz's dot program is not installed (on Debian: "
                           "apt-get install graphviz)") from None
