"""minigrad.save / minigrad.load: round trips, and clear errors for foreign or damaged files."""
import pickle

import numpy as np
import pytest

import minigrad
from minigrad.serialization import CheckpointError


def test_roundtrip_of_nested_state(tmp_path):
    obj = {"model": {"w": minigrad.tensor([[1.0, 2.0]]), "b": minigrad.zeros(2, dtype="float64")},
           "optim": {"state": {0: {"step": 3, "exp_avg": minigrad.ones(2)}},
                     "param_groups": [{"lr": 1e-3, "betas": (0.9, 0.999), "params": [0]}]},
           "epoch": 4, "name": "run", "nothing": None}
    path = tmp_path / "ck.npz"
    minigrad.save(obj, path)
    back = minigrad.load(path)
    assert back["model"]["w"].tolist() == [[1.0, 2.0]]
    assert back["model"]["b"].dtype == minigrad.float64
    assert back["optim"]["state"][0]["step"] == 3          # int keys stay ints
    assert back["optim"]["param_groups"][0]["betas"] == (0.9, 0.999)
    assert back["epoch"] == 4 and back["name"] == "run" and back["nothing"] is None


def test_truncated_file_is_a_clear_error(tmp_path):
    path = tmp_path / "ck.npz"
    minigrad.save({"w": minigrad.randn(100, 100)}, path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match="ck.npz is not a readable minigrad checkpoint"):
        minigrad.load(path)


def test_pickle_file_is_refused_and_never_run(tmp_path):
    class Boom:
        def __reduce__(self):
            return (exec, ("open(%r, 'w').write('ran')" % str(tmp_path / "pwned"),))
    path = tmp_path / "evil.npz"
    path.write_bytes(pickle.dumps(Boom()))
    with pytest.raises(CheckpointError):
        minigrad.load(path)
    assert not (tmp_path / "pwned").exists()


def test_foreign_npz_and_text_files_are_clear_errors(tmp_path):
    np.savez(tmp_path / "other.npz", x=np.zeros(3))
    with pytest.raises(CheckpointError, match="not a minigrad checkpoint"):
        minigrad.load(tmp_path / "other.npz")
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(CheckpointError, match="notes.txt"):
        minigrad.load(tmp_path / "notes.txt")


def test_unsupported_values_are_refused_on_save(tmp_path):
    with pytest.raises(TypeError, match="set"):
        minigrad.save({"x": {1, 2}}, tmp_path / "x.npz")
