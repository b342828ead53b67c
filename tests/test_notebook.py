"""docs/walkthrough.ipynb is docs/walkthrough.md as a notebook, run: regenerating it (which
runs every code cell in order, in one namespace) gives the committed file byte for byte,
each cell shows what the page says that code prints, and the figures are inside it."""
import doctest
import importlib.util
import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FLAGS = doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS


@pytest.fixture(scope="module")
def notebook_module():
    spec = importlib.util.spec_from_file_location("notebook", ROOT / "scripts" / "notebook.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def built(notebook_module):
    return notebook_module.build()


def test_the_committed_notebook_is_the_page_run_today(notebook_module, built):
    committed = (ROOT / "docs" / "walkthrough.ipynb").read_text()
    assert committed == notebook_module.dumps(built[0]), (
        "docs/walkthrough.ipynb is stale: run python scripts/notebook.py")


def test_every_cell_shows_what_the_page_says_it_prints(built):
    _, checks = built
    assert len(checks) >= 30                        # the page's examples, not a handful
    checker = doctest.OutputChecker()
    for source, want, shown, raises in checks:
        if raises:                                  # the page expects this exception
            assert shown.strip().endswith(want.strip()), (source, want, shown)
        else:
            assert checker.check_output(want, shown, FLAGS), (
                f"cell\n{source}\nprinted\n{shown}\nbut the page says\n{want}")


def test_the_notebook_is_a_notebook_with_the_figures_inside(built):
    nb = json.loads(json.dumps(built[0]))
    assert nb["nbformat"] == 4 and nb["metadata"]["kernelspec"]["name"] == "python3"
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert [c["execution_count"] for c in code] == list(range(1, len(code) + 1))
    for cell in nb["cells"]:
        assert set(cell) >= {"cell_type", "metadata", "source"}
        text = "".join(cell["source"])
        assert "](figures/" not in text                 # every picture embedded
        for name in re.findall(r"\(attachment:([\w.-]+)\)", text):
            assert cell["attachments"][name]["image/png"].startswith("iVBORw0KGgo")  # PNG
    shown = {n for c in nb["cells"] for n in c.get("attachments", {})}
    page = (ROOT / "docs" / "walkthrough.md").read_text()
    assert shown == set(re.findall(r"\(figures/([\w.-]+\.png)\)", page)) and shown
    # the code cells are the page's pycon code; the GPU block stays a listing
    sources = "".join("".join(c["source"]) for c in code)
    assert "cols = textbook.im2col(x, 2, 2, 1, 0)" in sources and "device=\"cuda\"" not in sources
    errors = [o for c in code for o in c["outputs"] if o["output_type"] == "error"]
    assert [e["ename"] for e in errors] == ["ValueError"]     # step 2's, on purpose


def test_a_wrong_output_is_caught(notebook_module, tmp_path):
    """The check is not vacuous: a page whose example claims the wrong value fails it."""
    page = tmp_path / "page.md"
    page.write_text("Text.\n\n```pycon\n>>> 1 + 1\n3\n>>> print('ok')\nok\n```\n")
    _, checks = notebook_module.build(page)
    checker = doctest.OutputChecker()
    assert [checker.check_output(want, shown, FLAGS) for _, want, shown, _ in checks] == \
        [False, True]


def test_validates_against_the_nbformat_schema_where_installed(built):
    nbformat = pytest.importorskip("nbformat", reason="nbformat is not installed; the "
                                   "structure is checked by hand above")
    nbformat.validate(nbformat.from_dict(json.loads(json.dumps(built[0]))))
