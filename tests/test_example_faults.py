"""examples/lenet_fashion.py when things go wrong: a wrong --data, bad arguments, odd
checkpoints, busy or unwritable run folders, and faults during a save. Faults run the example
as a script in a subprocess, on a small synthetic Fashion-MNIST in a temporary folder."""
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import minigrad
from helpers import make_split, trust
from minigrad.data import fashion_mnist as fm

ROOT = Path(__file__).parent.parent
EXAMPLE = ROOT / "examples" / "lenet_fashion.py"
QUICK = ["--device", "cpu", "--batch-size", "64", "--train-subset", "256",
         "--test-subset", "128"]

# Runs the example as `python examples/lenet_fashion.py ARGS`, trusting the synthetic
# data's digests, and optionally injects a fault into the n-th save (np.savez call).
RUNNER = """
import json, os, resource, runpy, signal, sys
import numpy as np
from minigrad.data import fashion_mnist as fm
config = json.loads(sys.argv[1])
fm.FILES.update(config["digests"])
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)     # a too-big write fails with EFBIG
if config.get("fsize_at_start"):
    resource.setrlimit(resource.RLIMIT_FSIZE, (config["fsize_at_start"], resource.RLIM_INFINITY))
real_savez, calls = np.savez, []
def savez(f, *args, **kwargs):
    calls.append(1)
    if len(calls) == config.get("fault_on_save"):
        if config["fault"] == "sigint":
            f.write(b"the first bytes")
            os.kill(os.getpid(), signal.SIGINT)    # Ctrl-C in the middle of the write
        if config["fault"] == "fsize":             # the disk fills up (a file-size limit)
            resource.setrlimit(resource.RLIMIT_FSIZE, (8192, resource.RLIM_INFINITY))
    return real_savez(f, *args, **kwargs)
np.savez = savez
sys.argv = [config["example"]] + config["args"]
runpy.run_path(config["example"], run_name="__main__")
"""


@pytest.fixture
def data(tmp_path, monkeypatch):
    contents = make_split(tmp_path / "data", 300, seed=0)
    trust(monkeypatch, contents)
    return tmp_path / "data"


def script(args, data, cwd, prefix=(), **config):
    """Run the example as a script; returns the CompletedProcess."""
    digests = {name: hashlib.sha256(fm.read_bytes(fm.file_in(data, name))).hexdigest()
               for name in fm.FILES} if data is not None and fm.find(data) else {}
    config.update(example=str(EXAMPLE), args=[str(a) for a in args], digests=digests)
    env = dict(os.environ, PYTHONPATH=str(ROOT), MPLCONFIGDIR=str(cwd / ".mpl"))
    return subprocess.run([*prefix, sys.executable, "-c", RUNNER, json.dumps(config)],
                          capture_output=True, text=True, cwd=cwd, env=env, timeout=300)


def one_error_line(result, *fragments):
    """Exit status 2, and stderr is exactly one line "error: ..." holding ``fragments``."""
    assert result.returncode == 2, (result.returncode, result.stderr[-2000:])
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr[-2000:]
    for f in fragments:
        assert f in lines[0], lines[0]
    return lines[0]


def main_error(example, capsys, args):
    """Run main() in-process; expect exit 2 with one "error:" line, and return that line."""
    with pytest.raises(SystemExit) as e:
        example.main([str(a) for a in args])
    assert e.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: "), err
    return err[0]


# ---- 7. --data DIR is used or the run fails naming it ------------------------------------
def test_data_dir_that_does_not_exist_fails_naming_it(example, data, tmp_path, capsys):
    line = main_error(example, capsys, [*QUICK, "--data", tmp_path / "no/such/dir",
                                        "--out", tmp_path / "run"])
    assert str(tmp_path / "no/such/dir") in line and "does not exist" in line
    assert not (tmp_path / "run" / "checkpoint.npz").exists()


def test_data_dir_missing_one_file_fails_naming_it(example, data, tmp_path, capsys,
                                                   monkeypatch):
    partial = tmp_path / "partial"
    shutil.copytree(data, partial)
    (partial / "t10k-labels-idx1-ubyte.gz").unlink()
    monkeypatch.setenv("MINIGRAD_DATA", str(data))        # a complete copy elsewhere: unused
    line = main_error(example, capsys, [*QUICK, "--data", partial, "--out", tmp_path / "r"])
    assert str(partial) in line and "t10k-labels-idx1-ubyte" in line


def test_the_folder_used_is_printed(example, data, tmp_path, capsys):
    example.main([*QUICK, "--data", str(data), "--out", str(tmp_path / "r"), "--epochs", "1"])
    assert f"data: {data}" in capsys.readouterr().out


def test_data_module_with_an_explicit_root_fails_naming_it(tmp_path):
    result = subprocess.run([sys.executable, "-m", "minigrad.data", "--no-download", "--root",
                             str(tmp_path / "empty")], capture_output=True, text=True,
                            cwd=ROOT)
    assert result.returncode == 1
    assert str(tmp_path / "empty") in result.stderr and "does not exist" in result.stderr


# ---- 8. a failed save never destroys the last good checkpoint -----------------------------
def assert_epoch_1_intact(out):
    checkpoint = minigrad.load(out / "checkpoint.npz")
    assert checkpoint["epoch"] == 1
    assert [h["epoch"] for h in json.loads((out / "metrics.json").read_text())] == [1]
    assert (out / "metrics.csv").read_text().count("\n") == 2       # header + epoch 1
    leftovers = [p.name for p in out.iterdir() if p.name.startswith(".")]
    assert leftovers == [], leftovers


def test_ctrl_c_during_the_epoch_2_save_keeps_epoch_1(data, tmp_path):
    out = tmp_path / "run"
    result = script([*QUICK, "--data", data, "--out", out, "--epochs", "2"], data, tmp_path,
                    fault="sigint", fault_on_save=2)
    assert result.returncode == 130, result.stderr[-2000:]
    assert "epoch 2, loss" in result.stdout and "Traceback" not in result.stderr
    assert result.stderr.strip().startswith("interrupted")
    assert_epoch_1_intact(out)


def test_a_full_disk_during_the_epoch_2_save_keeps_epoch_1(data, tmp_path):
    out = tmp_path / "run"
    result = script([*QUICK, "--data", data, "--out", out, "--epochs", "2"], data, tmp_path,
                    fault="fsize", fault_on_save=2)
    one_error_line(result, "could not write the outputs of epoch 2", "File too large",
                   "epoch 1's files are intact")
    assert_epoch_1_intact(out)


def test_a_folder_too_full_for_a_checkpoint_fails_at_start(data, tmp_path):
    out = tmp_path / "run"
    result = script([*QUICK, "--data", data, "--out", out, "--epochs", "1"], data, tmp_path,
                    fsize_at_start=100_000)
    one_error_line(result, f"cannot write to the run folder {out}", "File too large")
    assert "epoch 1" not in result.stdout                 # before training an epoch


def test_a_read_only_folder_fails_at_start(data, tmp_path):
    out = tmp_path / "readonly"
    out.mkdir()
    out.chmod(0o555)
    prefix = ()
    if os.geteuid() == 0:          # root ignores permission bits: drop that privilege
        if shutil.which("setpriv") is None:
            pytest.skip("running as root without setpriv: cannot make a folder read-only")
        caps = "-dac_override,-dac_read_search"
        prefix = ("setpriv", f"--inh-caps={caps}", f"--bounding-set={caps}", "--")
    probe = subprocess.run([*prefix, "touch", str(out / "probe")], capture_output=True)
    if probe.returncode == 0:
        pytest.skip("this environment can write into a mode 555 folder")
    result = script([*QUICK, "--data", data, "--out", out, "--epochs", "1"], data, tmp_path,
                    prefix=prefix)
    one_error_line(result, f"cannot write to the run folder {out}", "Permission denied")
    assert "epoch 1" not in result.stdout
    out.chmod(0o755)


# ---- 9. runs never overwrite each other ---------------------------------------------------
def test_two_runs_started_in_the_same_second_get_their_own_folders(example, data, tmp_path,
                                                                     monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(example.time, "strftime", lambda fmt: "lenet-20260101-000000")
    args = [*QUICK, "--data", str(data), "--epochs", "1"]
    example.main(args)
    example.main(args)
    runs = sorted(p.name for p in (tmp_path / "runs").iterdir())
    assert runs == ["lenet-20260101-000000", "lenet-20260101-000000-2"]
    assert all((tmp_path / "runs" / r / "checkpoint.npz").exists() for r in runs)


def test_an_existing_run_folder_is_refused_unless_overwrite_or_resume(example, data, tmp_path,
                                                                      capsys):
    out = tmp_path / "run"
    args = [*QUICK, "--data", data, "--out", out]
    example.main([str(a) for a in args + ["--epochs", "1"]])
    before = (out / "checkpoint.npz").read_bytes()
    line = main_error(example, capsys, args + ["--epochs", "1", "--seed", "3"])
    assert str(out) in line and "--overwrite" in line and "checkpoint.npz" in line
    assert (out / "checkpoint.npz").read_bytes() == before             # untouched
    example.main([str(a) for a in args + ["--epochs", "1", "--seed", "3", "--overwrite"]])
    assert minigrad.load(out / "checkpoint.npz")["config"]["seed"] == 3
    history = example.main([str(a) for a in args + ["--epochs", "2", "--resume",
                                                    out / "checkpoint.npz"]])
    assert [h["epoch"] for h in history] == [1, 2]


def test_a_second_run_into_the_same_out_is_refused_while_the_first_runs(data, tmp_path):
    """Two processes given the same --out at once: the second is refused at start (even with
    --overwrite), the first keeps its lock and its files; the first's lock goes when it ends
    (here by Ctrl-C)."""
    out = tmp_path / "run"
    args = [*QUICK, "--data", data, "--out", out]
    digests = {name: hashlib.sha256(fm.read_bytes(fm.file_in(data, name))).hexdigest()
               for name in fm.FILES}
    config = dict(example=str(EXAMPLE), args=[str(a) for a in args + ["--epochs", "500"]],
                  digests=digests)
    env = dict(os.environ, PYTHONPATH=str(ROOT), MPLCONFIGDIR=str(tmp_path / ".mpl"))
    first = subprocess.Popen([sys.executable, "-c", RUNNER, json.dumps(config)], cwd=tmp_path,
                             env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True)
    try:
        deadline = time.monotonic() + 120
        while not (out / "metrics.json").exists():     # running, one epoch written
            assert first.poll() is None and time.monotonic() < deadline, first.stderr.read()
            time.sleep(0.2)
        assert (out / "run.lock").read_text().strip() == str(first.pid)
        metrics = (out / "metrics.json").read_bytes()
        second = script(args + ["--epochs", "1", "--overwrite"], data, tmp_path)
        one_error_line(second, f"--out {out} is in use by another run",
                       f"process {first.pid}")
        assert "training on" not in second.stdout
        assert (out / "run.lock").read_text().strip() == str(first.pid)
        assert first.poll() is None
        assert json.loads(metrics)                     # the first's files are its own
    finally:
        first.send_signal(signal.SIGINT)
        first.communicate(timeout=120)
    assert first.returncode == 130
    assert not (out / "run.lock").exists()             # released at exit


def test_a_lock_left_by_a_dead_run_is_taken_over(example, data, tmp_path, capsys):
    out = tmp_path / "run"
    out.mkdir()
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()                                        # a pid that no longer runs
    (out / "run.lock").write_text(f"{dead.pid}\n")
    example.main([str(a) for a in [*QUICK, "--data", data, "--out", out, "--epochs", "1"]])
    printed = capsys.readouterr().out
    assert f"taking over the lock file {out / 'run.lock'} of process {dead.pid}" in printed
    assert (out / "checkpoint.npz").exists() and not (out / "run.lock").exists()


def test_a_lock_held_by_a_live_process_refuses_even_overwrite(example, data, tmp_path,
                                                             capsys):
    out = tmp_path / "run"
    out.mkdir()
    (out / "metrics.json").write_text("theirs")
    alive = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        (out / "run.lock").write_text(f"{alive.pid}\n")
        line = main_error(example, capsys, [*QUICK, "--data", data, "--out", out,
                                            "--epochs", "1", "--overwrite"])
        assert "is in use by another run" in line and f"process {alive.pid}" in line
        assert (out / "metrics.json").read_text() == "theirs"
        assert (out / "run.lock").read_text().strip() == str(alive.pid)
    finally:
        alive.kill()
        alive.wait()


# ---- the example's other expected errors: one line, exit 2, no traceback -----------------
@pytest.mark.parametrize("bad, fragment", [
    (["--batch-size", "0"], "--batch-size: expected a positive integer, got '0'"),
    (["--epochs", "-1"], "--epochs: expected a positive integer, got '-1'"),
    (["--epochs", "0"], "--epochs: expected a positive integer"),
    (["--train-subset", "-5"], "--train-subset: expected a positive integer"),
    (["--train-subset", "1000"], "--train-subset 1000 is larger than the train set (300"),
    (["--test-subset", "301"], "--test-subset 301 is larger than the test set (300"),
    (["--lr", "nan"], "--lr: expected a learning rate"),
    (["--seed", "-1"], "--seed: expected an integer ≥ 0"),
    (["--device", "tpu"], "--device: invalid choice"),
])
def test_bad_arguments_are_one_line_errors(example, data, tmp_path, capsys, bad, fragment):
    args = ["--device", "cpu", "--data", data, "--out", tmp_path / "r", "--epochs", "1", *bad]
    line = main_error(example, capsys, args)
    assert fragment in line, line


def test_an_argument_error_as_a_script_prints_one_line_and_no_traceback(data, tmp_path):
    one_error_line(script(["--batch-size", "0"], None, tmp_path),
                   "--batch-size: expected a positive integer")


@pytest.mark.parametrize("kind", ["npy", "state_dict", "nested", "missing", "text"])
def test_resume_from_something_else_is_a_one_line_error(example, data, tmp_path, capsys, kind):
    path = tmp_path / f"thing.{'npy' if kind == 'npy' else 'npz'}"
    expected = {"npy": ".npy array", "state_dict": "not a checkpoint of this example",
                "nested": "nested too deeply", "missing": "no such file",
                "text": "not a readable minigrad checkpoint"}[kind]
    if kind == "npy":
        np.save(path, np.zeros(3))
    elif kind == "state_dict":
        from examples.lenet import lenet
        minigrad.save(lenet().state_dict(), path)
    elif kind == "nested":
        deep = '{"format": "minigrad-checkpoint-1", "root": ' + "[" * 100_000 + \
            "]" * 100_000 + "}"
        np.savez(path, __structure__=np.array(deep))
    elif kind == "text":
        path.write_text("not a checkpoint")
    line = main_error(example, capsys, [*QUICK, "--data", data, "--resume", path])
    assert expected in line and str(path) in line, line


def test_resume_says_which_settings_it_keeps(example, data, tmp_path, capsys):
    out = tmp_path / "run"
    example.main([*QUICK, "--data", str(data), "--out", str(out), "--epochs", "1"])
    capsys.readouterr()
    example.main(["--device", "cpu", "--data", str(data), "--epochs", "2", "--resume",
                  str(out / "checkpoint.npz"), "--lr", "0.5", "--batch-size", "64",
                  "--seed", "7"])
    printed = capsys.readouterr().out
    assert "resume: keeping lr=0.001 from the checkpoint, not --lr 0.5" in printed
    assert "resume: keeping seed=0 from the checkpoint, not --seed 7" in printed
    assert "batch_size" not in printed                     # the same value: nothing to say
