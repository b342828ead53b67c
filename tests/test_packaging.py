"""The kernel sources are found however minigrad is run: from a built wheel (pip install .),
from the editable install that make test uses, and from a plain source checkout."""
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import minigrad
from minigrad.backend.cuda import KERNELS, kernel_dir

ROOT = Path(__file__).parent.parent


def test_version_is_single_sourced():
    """pyproject.toml reads the version from minigrad.__version__; the installed metadata
    must say the same."""
    from importlib.metadata import version
    assert version("minigrad") == minigrad.__version__


def test_kernels_found_in_this_install():
    assert sorted(p.name for p in kernel_dir().glob("*.cu")) == sorted(KERNELS)


def test_wheel_ships_the_kernels(tmp_path):
    pytest.importorskip("setuptools")
    subprocess.run([sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps",
                    "--no-build-isolation", "-q", "-w", str(tmp_path)], check=True,
                   capture_output=True, timeout=300)
    (wheel,) = tmp_path.glob("minigrad-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert {f"minigrad/kernels/{k}" for k in KERNELS} <= set(names)
    assert "minigrad/emulate/shim.h" in names           # the emulator builds the kernels with it
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target",
                    str(target), str(wheel)], check=True, capture_output=True, timeout=300)
    assert where_kernels_are(target) == target / "minigrad" / "kernels"


def test_plain_source_checkout_finds_kernels(tmp_path):
    shutil.copytree(ROOT / "minigrad", tmp_path / "minigrad",
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "kernels", tmp_path / "kernels")
    assert where_kernels_are(tmp_path) == tmp_path / "kernels"


def test_a_checkout_uses_its_own_kernels_beside_an_editable_install(tmp_path):
    """The editable install that make test makes maps minigrad.kernels to this checkout's
    kernels/. Another checkout, imported first, must still find its own kernels/, not
    ours through that mapping."""
    shutil.copytree(ROOT / "minigrad", tmp_path / "minigrad",
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "kernels", tmp_path / "kernels")
    code = (f"import sys; sys.path.insert(0, {str(tmp_path)!r}); import minigrad; "
            "from minigrad.backend.cuda import kernel_dir; print(minigrad.__file__); "
            "print(kernel_dir())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=tmp_path).stdout.split()
    assert Path(out[0]).is_relative_to(tmp_path)
    assert Path(out[1]) == tmp_path / "kernels"


def where_kernels_are(path):
    """kernel_dir() in a fresh interpreter that sees minigrad only under ``path`` (the
    editable install's import hook, if any, is removed first)."""
    code = ("import sys; sys.meta_path[:] = [f for f in sys.meta_path "
            "if 'editable' not in repr(f).lower()]; "
            f"sys.path.insert(0, {str(path)!r}); "
            "from minigrad.backend.cuda import kernel_dir; print(kernel_dir())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=path)
    return Path(out.stdout.strip())
