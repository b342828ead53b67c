"""Exercise 3: the DOT graph shows what each op saved for its backward."""
import re

import pytest

import minigrad
from exercise_help import not_done

pytestmark = pytest.mark.exercise


def test_saved_arrays_are_drawn():
    from minigrad import viz
    if not hasattr(viz, "SAVED"):
        not_done("minigrad/viz.py has no SAVED style for the saved arrays")
    x = minigrad.tensor([1.0, 2.0, 3.0], requires_grad=True)
    w = minigrad.tensor([0.5, -1.0, 2.0], requires_grad=True)
    loss = (x.exp() * w).sigmoid().sum()
    text = viz.dot(loss)
    ops, stack, saved = set(), [loss.grad_fn], 0   # count what the graph's nodes saved
    while stack:
        node = stack.pop()
        if node is None or id(node) in ops:
            continue
        ops.add(id(node))
        saved += sum(hasattr(a, "shape") for a in node._saved)
        stack.extend(node.parents)
    styled = [ln for ln in text.splitlines() if viz.SAVED in ln]
    assert len(styled) == saved > 0, text
    for line in styled:
        node_id = re.match(r"\s*(\w+) \[", line).group(1)
        assert 'label="saved' in line, line
        assert re.search(rf"{node_id} -> op\d+ \[style=dashed\]", text), (node_id, text)
