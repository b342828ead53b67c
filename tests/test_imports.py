"""Which module imports which, read from the source: no import cycle anywhere in minigrad/, the
engine and the optimizers never reach for the CUDA-graph machinery, and ``import minigrad``
leaves CuPy unloaded.

The graph is built with ``ast`` from every ``.py`` file under minigrad/, whatever the layout:
a module's node is its dotted name (a package is its ``__init__``). An edge is an import
statement run when the module is imported: at module level, under an ``if``/``try``, or in a
class body, but not inside a function (those run on a call; they are how a module keeps CuPy
unloaded until it is needed). ``from . import x`` is an edge to the submodule ``package.x``
when that is a module, else to the package; the import of a module's parent packages, which
Python does first, is not counted (it would make every package a cycle with its children).
"""
import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "minigrad"


def module_name(path, root=ROOT):
    """minigrad/nn/functional.py -> minigrad.nn.functional; minigrad/nn/__init__.py ->
    minigrad.nn (``path`` relative to ``root``)."""
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def all_modules():
    """{dotted name: path} of every module in the package (tests/ and data files excluded)."""
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def is_type_checking(node):
    return isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)


def import_nodes(tree, in_functions):
    """The Import/ImportFrom nodes of a module; those inside functions only if asked."""
    found = []

    def visit(node):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.Import, ast.ImportFrom)):
                found.append(child)
            elif isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                if in_functions:
                    visit(child)
            elif is_type_checking(child):
                continue                  # never runs
            else:
                visit(child)
    visit(tree)
    return found


def imported_modules(name, path, modules, in_functions=False):
    """The minigrad modules that module ``name`` (file ``path``) imports."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    targets = set()
    for node in import_nodes(ast.parse(path.read_text(), str(path)), in_functions):
        if isinstance(node, ast.Import):
            bases = [alias.name for alias in node.names]
            for base in bases:
                # `import a.b.c` runs a, a.b and a.b.c; the deepest module found is the edge
                parts = base.split(".")
                for i in range(len(parts), 0, -1):
                    if ".".join(parts[:i]) in modules:
                        targets.add(".".join(parts[:i]))
                        break
            continue
        if node.level:
            anchor = package.split(".")
            anchor = anchor[:len(anchor) - (node.level - 1)]
            base = ".".join(anchor + ([node.module] if node.module else []))
        else:
            base = node.module
        if base not in modules:
            continue                      # numpy, cupy, the standard library
        for alias in node.names:
            sub = f"{base}.{alias.name}"
            targets.add(sub if sub in modules else base)
    targets.discard(name)
    return targets


def import_graph(in_functions=False):
    modules = all_modules()
    return {name: imported_modules(name, path, modules, in_functions)
            for name, path in modules.items()}


def find_cycle(graph):
    """One cycle as a list of modules [a, b, ..., a], or None (depth-first search)."""
    state = {}                            # name -> "open" (on the path) or "done"
    path = []

    def visit(node):
        state[node] = "open"
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == "open":
                return path[path.index(nxt):] + [nxt]
            if nxt not in state:
                cycle = visit(nxt)
                if cycle:
                    return cycle
        path.pop()
        state[node] = "done"
        return None

    for node in sorted(graph):
        if node not in state:
            cycle = visit(node)
            if cycle:
                return cycle
    return None


# ---- the reader itself ---------------------------------------------------------------------
def test_the_graph_reader_sees_relative_absolute_and_nested_imports(tmp_path):
    """Checked on a small made-up package, so that the tests below cannot pass by reading
    nothing."""
    files = {
        "pkg/__init__.py": "from . import a\n",
        "pkg/a.py": "from .sub import b\nimport numpy\n",
        "pkg/sub/__init__.py": "",
        "pkg/sub/b.py": "from .. import a\nfrom ..c import thing\n",
        "pkg/c.py": "import pkg.sub.b\ndef f():\n    from . import a\n",
    }
    for rel, text in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    paths = {module_name(tmp_path / rel, tmp_path): tmp_path / rel for rel in files}
    graph = {n: imported_modules(n, p, paths) for n, p in paths.items()}
    assert graph == {"pkg": {"pkg.a"}, "pkg.a": {"pkg.sub.b"}, "pkg.sub": set(),
                     "pkg.sub.b": {"pkg.a", "pkg.c"}, "pkg.c": {"pkg.sub.b"}}
    assert find_cycle(graph) == ["pkg.a", "pkg.sub.b", "pkg.a"]
    assert imported_modules("pkg.c", paths["pkg.c"], paths, in_functions=True) == \
        {"pkg.sub.b", "pkg.a"}
    assert find_cycle({"x": {"y"}, "y": set()}) is None


# ---- minigrad ------------------------------------------------------------------------------
def test_the_package_is_read_whole():
    graph = import_graph()
    for name in ("minigrad", "minigrad.tensor", "minigrad.autograd", "minigrad.gpu_state",
                 "minigrad.cuda", "minigrad.cuda_graphs", "minigrad.nn.functional"):
        assert name in graph
    assert "minigrad.tensor" in graph["minigrad"]
    assert "minigrad.gpu_state" in graph["minigrad.autograd"]


def test_no_module_level_import_cycle():
    cycle = find_cycle(import_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_gpu_state_is_a_leaf():
    """The engine's one question to the GPU side imports nothing from minigrad."""
    assert import_graph(in_functions=True)["minigrad.gpu_state"] == set()


@pytest.mark.parametrize("who", ["minigrad.autograd", "minigrad.device", "minigrad.optim"])
def test_the_engine_and_optimizers_never_import_the_cuda_graph_machinery(who):
    """Not at module level and not inside a function: they ask minigrad.gpu_state."""
    graph = import_graph(in_functions=True)
    importers = [name for name in graph if name == who or name.startswith(who + ".")]
    assert importers
    for name in importers:
        assert not graph[name] & {"minigrad.cuda", "minigrad.cuda_graphs"}, name


def test_import_minigrad_leaves_cupy_unloaded():
    code = ("import sys, minigrad, minigrad.nn, minigrad.optim, minigrad.data; "
            "print('cupy' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=ROOT, check=True)
    assert out.stdout.strip() == "False", out.stderr
