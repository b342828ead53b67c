"""Every code block of README.md and docs/ (docs/*.md, docs/*/*.md) runs: no output can drift.

The convention (docs/testing.md says it for writers):

- ```pycon blocks are doctests: ``>>>`` lines and the output they print, checked by doctest
  with NORMALIZE_WHITESPACE and ELLIPSIS;
- ```python blocks are executed (they must run without an error);
- both run in order in one namespace per file, so a later block sees an earlier block's
  names;
- shell blocks (```bash, ```sh, ```console) are not run, but every ``make TARGET`` they name
  must be a target of the Makefile, and every ``python -m MODULE`` / ``python path.py`` must
  name a module or file that exists;
- ```text blocks are not code (printed logs, diagrams, file trees); a fence without a
  language is an error, so that every block says which kind it is;
- a code block opts out only with an HTML comment on the line right before it that says
  why: ``<!-- not run: needs a GPU -->``. The opt-outs are counted below.

And every file the prose names exists: a relative link, or a path in backticks under one of
the repository's folders (``minigrad/backend/textbook.py``, ``kernels/*.cu``), must name a
file or folder of the checkout (globs must match one), unless it is one of the few paths
below that a learner or a run makes.
"""
import doctest
import importlib.util
import re
import shlex
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")),
        *sorted((ROOT / "docs").glob("*/*.md"))]
TOP = ("minigrad", "kernels", "tests", "examples", "docs", "scripts", "benchmarks",
       "build_track")
NAMED_PATH = re.compile(rf"(?<![\w/.$-])((?:{'|'.join(TOP)})/[\w./*-]*)(?![\w/])")
SHORT_PATH = re.compile(r"(?<![\w/.$-])((?:[\w-]+/)+[\w*-]+\.(?:py|cu))(?![\w/])")
SHORT_BASES = (ROOT / "minigrad", ROOT / "minigrad" / "backend")   # `ops/layers.py`, `cpu/conv.py`
LINK = re.compile(r"\]\((?!https?:|#|mailto:)([^)#\s]+)")
NOT_IN_REPO = {                # paths the docs name that the checkout does not hold, and why
    "examples/mnist/main.py": "a file of pytorch/examples, not of this repository",
    "kernels/relu.cu": "exercise 1 asks the learner to write it",
    "build_track/learner/": "make build copies the skeleton there on its first run",
}
SHELL = {"bash", "sh", "console", "shell"}
KINDS = {"pycon", "python", "text"} | SHELL
FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>```+)(?P<lang>[\w-]*)[ \t]*$")
OPT_OUT = re.compile(r"<!--\s*not run:\s*(?P<why>.*?)\s*-->")
FLAGS = doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS
MAX_OPT_OUTS = 10          # a few blocks may need a GPU; more means the docs stopped being tested


class Block:
    def __init__(self, path, line, lang, text, opt_out):
        self.path, self.line, self.lang, self.text, self.opt_out = path, line, lang, text, opt_out

    @property
    def where(self):
        name = self.path.relative_to(ROOT) if self.path.is_relative_to(ROOT) else self.path
        return f"{name}:{self.line}"


def blocks(path):
    """The fenced blocks of a Markdown file, each with its first line (1-based), its
    language, its text (the fence's indentation removed) and its opt-out reason, if any."""
    lines = path.read_text().splitlines()
    found, i = [], 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        indent, fence = m.group("indent"), m.group("fence")
        why = OPT_OUT.search(lines[i - 1]) if i else None       # the line right before
        body, j = [], i + 1
        while j < len(lines) and lines[j].strip() != fence:
            body.append(lines[j][len(indent):] if lines[j].startswith(indent) else lines[j])
            j += 1
        if j == len(lines):
            raise AssertionError(f"{path}:{i + 1}: a fence that never closes")
        found.append(Block(path, i + 1, m.group("lang"), "\n".join(body) + "\n",
                           why.group("why") if why else None))
        i = j + 1
    return found


def make_targets():
    text = (ROOT / "Makefile").read_text()
    targets = set()
    for m in re.finditer(r"^([\w./$()-][^:=#\n]*?)\s*:(?!=)", text, re.M):
        targets.update(m.group(1).split())
    return targets


def check_shell(block):
    """Problems with the make targets, modules and scripts a shell block names."""
    problems, targets = [], make_targets()
    for raw in block.text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if block.lang == "console":
            if not line.startswith("$ "):
                continue                         # output, not a command
            line = line[2:]
        try:
            words = shlex.split(line)
        except ValueError:
            words = line.split()
        for k, word in enumerate(words):
            rest = words[k + 1:]
            if word == "make":
                for target in rest:
                    if target.startswith("-") or "=" in target or target in "&|;":
                        break
                    if target not in targets:
                        problems.append(f"`make {target}`: no such target in the Makefile")
            elif re.fullmatch(r"(.*/)?python3?", word) and rest:
                if rest[0] == "-m" and len(rest) > 1:
                    if importlib.util.find_spec(rest[1]) is None:
                        problems.append(f"`python -m {rest[1]}`: no such module")
                elif rest[0].endswith(".py") and not (ROOT / rest[0]).is_file():
                    problems.append(f"`python {rest[0]}`: no such file")
    return problems


def run_file(path):
    """Run every block of ``path`` in one namespace; a list of failure reports."""
    namespace = {"__name__": f"doc:{path.name}"}
    failures = []
    for block in blocks(path):
        if block.lang not in KINDS:
            failures.append(f"{block.where}: a fence with language {block.lang or '(none)'!r}; "
                            f"use one of {sorted(KINDS)}")
            continue
        if block.opt_out is not None or block.lang == "text":
            continue
        if block.lang in SHELL:
            failures += [f"{block.where}: {p}" for p in check_shell(block)]
        elif block.lang == "python":
            try:
                exec(compile(block.text, block.where, "exec"), namespace)
            except Exception as e:  # report every failing block, not just the first
                failures.append(f"{block.where}: the python block raised "
                                f"{type(e).__name__}: {e}")
        else:
            test = doctest.DocTestParser().get_doctest(block.text, namespace, block.where,
                                                       str(block.path), block.line)
            test.globs = namespace                    # get_doctest copies; we share
            if not test.examples:
                failures.append(f"{block.where}: a pycon block without a `>>>` line")
                continue
            report = []
            runner = doctest.DocTestRunner(optionflags=FLAGS)
            result = runner.run(test, out=report.append, clear_globs=False)
            if result.failed:
                failures.append("".join(report))
    return failures


@pytest.mark.parametrize("path", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_code_blocks_run(path):
    failures = run_file(path)
    assert not failures, "\n".join(failures)


def missing_paths(path):
    """The paths ``path`` names that do not exist, as "file:line: path": relative links,
    backticked paths under the repository's folders (from the root), and backticked shorter
    ones such as `ops/layers.py` or `cpu/conv.py` (inside minigrad/ or minigrad/backend/)."""
    problems = []
    for number, line in enumerate(path.read_text().splitlines(), 1):
        spans = re.findall(r"`([^`]+)`", line)
        named = [(m, [ROOT]) for span in spans for m in NAMED_PATH.findall(span)]
        named += [(m, SHORT_BASES) for span in spans for m in SHORT_PATH.findall(span)
                  if not m.startswith(TOP)]
        named += [(m, [path.parent]) for m in LINK.findall(line)]
        for name, bases in named:
            name = name.rstrip(".,:;")
            if name.startswith(tuple(NOT_IN_REPO)):
                continue
            if not any(any(base.glob(name)) if "*" in name else (base / name).exists()
                       for base in bases):
                problems.append(f"{path.name}:{number}: {name}")
    return problems


@pytest.mark.parametrize("path", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_named_files_exist(path):
    missing = missing_paths(path)
    assert not missing, "the docs name files that do not exist:\n" + "\n".join(missing)


def test_the_path_check_catches_a_missing_file(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("Read `minigrad/backend/textbook.py`, `kernels/*.cu` and `ops/layers.py`,\n"
                    "then `minigrad/backend/cpu.py`, `ops/nn.py` and [notes](no_such.md).\n")
    assert missing_paths(page) == ["page.md:2: minigrad/backend/cpu.py", "page.md:2: ops/nn.py",
                                   "page.md:2: no_such.md"]


def test_opt_outs_are_explained_and_few():
    opted = [b for path in DOCS for b in blocks(path) if b.opt_out is not None]
    for b in opted:
        assert b.opt_out, f"{b.where}: an opt-out must say why (<!-- not run: why -->)"
        assert b.lang in KINDS - {"text"}, f"{b.where}: only code blocks opt out"
    print(f"{len(opted)} code blocks opted out:",
          *(f"{b.where} ({b.opt_out})" for b in opted), sep="\n  ")
    assert len(opted) <= MAX_OPT_OUTS, f"{len(opted)} opt-outs: the docs are not being tested"


def test_the_checker_catches_what_it_should(tmp_path):
    """A wrong printed value, a raising python block, a missing make target and module, and
    an untagged fence each fail; a correct file passes."""
    good = tmp_path / "good.md"
    good.write_text("```python\nx = 2\n```\n\n```pycon\n>>> x * 3\n6\n```\n\n"
                    "```bash\nmake test\npython -m minigrad.data --help\n```\n\n"
                    "<!-- not run: needs a GPU -->\n```python\nimport cupy\n```\n")
    assert run_file(good) == []
    bad = tmp_path / "bad.md"
    bad.write_text("```pycon\n>>> 1 + 1\n3\n```\n\n```python\n1 / 0\n```\n\n"
                   "```bash\nmake no-such-target\npython -m no_such_module\n"
                   "python no/such/file.py\n```\n\n```\nuntagged\n```\n")
    failures = "\n".join(run_file(bad))
    for expected in ["Expected:\n    3", "ZeroDivisionError", "make no-such-target",
                     "python -m no_such_module", "no/such/file.py", "'(none)'"]:
        assert expected in failures, (expected, failures)
