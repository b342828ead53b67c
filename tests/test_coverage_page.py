"""docs/coverage.md is what scripts/coverage.py writes today: regenerated in memory and
compared, so a name added to (or removed from) minigrad without regenerating the page fails
here. The page records the PyTorch version it was made with; under another version PyTorch's
own list differs, so the comparison is skipped with that reason."""
import importlib.util
import re
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]


def load_script():
    spec = importlib.util.spec_from_file_location("coverage_script",
                                                  ROOT / "scripts" / "coverage.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_coverage_page_is_current():
    page = (ROOT / "docs" / "coverage.md").read_text()
    made_with = re.search(r"against PyTorch (\S+):", page)
    assert made_with, "docs/coverage.md does not say which PyTorch it was made with"
    if made_with.group(1) != torch.__version__:
        pytest.skip(f"docs/coverage.md was made with PyTorch {made_with.group(1)}, this is "
                    f"{torch.__version__}")
    assert load_script().render() == page, \
        "docs/coverage.md is stale: run python scripts/coverage.py"


def test_the_page_counts_what_minigrad_has():
    script = load_script()
    rows = {title: (present, missing) for title, _, present, missing, _ in script.compare()}
    present, missing = rows["torch"]
    assert "cat" in present and "from_numpy" in present
    assert "fft" not in present                        # a module, not counted either way
    nn_present, nn_missing = rows["torch.nn"]
    assert "MSELoss" in nn_present and "GroupNorm" in nn_present and "BatchNorm3d" in nn_missing
