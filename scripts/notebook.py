"""Make docs/walkthrough.ipynb from docs/walkthrough.md: the same page as a Jupyter notebook,
its prose as Markdown cells (with the figures of docs/figures/ embedded), its tested code as
code cells that have been run.

    python scripts/notebook.py               # writes docs/walkthrough.ipynb
    python scripts/notebook.py --check       # exit 1 if the committed notebook is stale

The code cells are the page's ```pycon blocks — the ones tests/test_docs.py runs as
doctests — cut after every line that prints something, so that each cell shows what that
line printed, as Jupyter shows a cell's last value. Building the notebook runs every cell
in order in one namespace (as test_docs does) and stores what it printed: the notebook
holds outputs a reader can trust, and tests/test_notebook.py checks that they are what the
page says. A block the page marks ``<!-- not run: ... -->`` (it needs a GPU) stays a code
listing in the Markdown. The JSON is written by hand (nbformat 4.4, no dependency), keys
sorted, so the file changes only when the page, the figures or minigrad's output do.
"""
import argparse
import base64
import contextlib
import doctest
import io
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "docs" / "walkthrough.md"
NOTEBOOK = ROOT / "docs" / "walkthrough.ipynb"
FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>```+)(?P<lang>[\w-]*)[ \t]*$")
OPT_OUT = re.compile(r"<!--\s*not run:.*?-->")
IMAGE = re.compile(r"!\[(?P<alt>[^\]]*)\]\((?P<path>figures/[\w.-]+\.png)\)")

SETUP = '''\
# Run from docs/ (where this notebook lives) or from the repository root: either way,
# import the minigrad of this checkout.
import sys
from pathlib import Path
for root in (Path.cwd(), Path.cwd().parent):
    if (root / "minigrad" / "__init__.py").is_file():
        sys.path.insert(0, str(root))
        break'''


def segments(text):
    """The page as [("markdown", text) | ("pycon", text)]: the pycon blocks that are run,
    and everything else (prose, text blocks, opted-out code) as Markdown between them."""
    lines = text.splitlines()
    out, prose, i = [], [], 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            prose.append(lines[i])
            i += 1
            continue
        j = i + 1
        while lines[j].strip() != m.group("fence"):
            j += 1
        opted_out = i > 0 and OPT_OUT.search(lines[i - 1])
        if m.group("lang") == "pycon" and not opted_out:
            out.append(("markdown", "\n".join(prose)))
            indent = len(m.group("indent"))
            out.append(("pycon", "\n".join(ln[indent:] for ln in lines[i + 1:j]) + "\n"))
            prose = []
        else:
            prose.extend(lines[i:j + 1])
        i = j + 1
    out.append(("markdown", "\n".join(prose)))
    return [(kind, body) for kind, body in out if body.strip()]


def cells_of_block(block):
    """A pycon block's examples, grouped into cells: each cell ends with an example that
    prints something (its expected output is the cell's). Returns [(source, want,
    exception message or None)]."""
    cells, pending = [], []
    for ex in doctest.DocTestParser().get_examples(block):
        pending.append(ex.source)
        if ex.want or ex.exc_msg:
            cells.append(("".join(pending).rstrip("\n"), ex.want, ex.exc_msg))
            pending = []
    if pending:
        cells.append(("".join(pending).rstrip("\n"), "", None))
    return cells


def run_cell(source, namespace):
    """Run ``source`` as Jupyter does: every statement, then the value of a last expression
    (if not None) shown with repr. Returns (stdout text, repr of the value or None,
    (exception type name, message) or None)."""
    import ast
    tree = ast.parse(source)
    last = tree.body[-1] if tree.body and isinstance(tree.body[-1], ast.Expr) else None
    body = ast.Module(tree.body[:-1] if last else tree.body, type_ignores=[])
    out, value, error = io.StringIO(), None, None
    with contextlib.redirect_stdout(out):
        try:
            exec(compile(body, "<cell>", "exec"), namespace)
            if last is not None:
                result = eval(compile(ast.Expression(last.value), "<cell>", "eval"), namespace)
                if result is not None:
                    value = repr(result)
        except Exception as e:  # a cell that raises shows the error, as Jupyter does
            error = (type(e).__name__, str(e))
    return out.getvalue(), value, error


def outputs(stdout, value, error, count):
    """The cell's outputs in nbformat's JSON."""
    out = []
    if stdout:
        out.append({"name": "stdout", "output_type": "stream",
                    "text": stdout.splitlines(keepends=True)})
    if value is not None:
        out.append({"data": {"text/plain": value.splitlines(keepends=True)},
                    "execution_count": count, "metadata": {}, "output_type": "execute_result"})
    if error is not None:
        name, message = error
        out.append({"ename": name, "evalue": message, "output_type": "error",
                    "traceback": [f"{name}: {message}"]})
    return out


def markdown_cell(text):
    """A Markdown cell; each figure it shows is embedded as an attachment."""
    attachments = {}

    def embed(m):
        path = PAGE.parent / m.group("path")
        name = path.name
        attachments[name] = {"image/png": base64.b64encode(path.read_bytes()).decode()}
        return f"![{m.group('alt')}](attachment:{name})"
    text = IMAGE.sub(embed, text.strip("\n"))
    cell = {"cell_type": "markdown", "metadata": {}, "source": text.splitlines(keepends=True)}
    if attachments:
        cell["attachments"] = attachments
    return cell


def code_cell(source, count, outs):
    return {"cell_type": "code", "execution_count": count, "metadata": {},
            "outputs": outs, "source": source.splitlines(keepends=True)}


def build(page=PAGE):
    """The notebook (a dict) of ``page``, every code cell run in order in one namespace.
    Also returns [(cell source, the output the page expects, what the cell printed)] for
    the checks of tests/test_notebook.py."""
    namespace = {"__name__": "__main__"}
    cells, checks, count = [], [], 1
    stdout, value, error = run_cell(SETUP, namespace)
    assert not (stdout or value or error), (stdout, value, error)
    cells.append(code_cell(SETUP, count, []))
    for kind, body in segments(page.read_text()):
        if kind == "markdown":
            cells.append(markdown_cell(body))
            continue
        for source, want, exc_msg in cells_of_block(body):
            count += 1
            stdout, value, error = run_cell(source, namespace)
            cells.append(code_cell(source, count, outputs(stdout, value, error, count)))
            shown = stdout + (value + "\n" if value is not None else "")
            if error is not None:
                shown += f"{error[0]}: {error[1]}\n"
            checks.append((source, want if exc_msg is None else exc_msg, shown,
                           exc_msg is not None))
    notebook = {"cells": cells, "metadata": {
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python"}}, "nbformat": 4, "nbformat_minor": 4}
    return notebook, checks


def dumps(notebook):
    return json.dumps(notebook, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--check", action="store_true",
                    help="do not write; exit 1 if docs/walkthrough.ipynb is stale")
    args = ap.parse_args(argv)
    text = dumps(build()[0])
    if args.check:
        if not NOTEBOOK.exists() or NOTEBOOK.read_text() != text:
            print(f"{NOTEBOOK.relative_to(ROOT)} is stale: run python scripts/notebook.py")
            return 1
        print(f"{NOTEBOOK.relative_to(ROOT)} is current")
        return 0
    NOTEBOOK.write_text(text)
    print(f"wrote {NOTEBOOK.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
