"""minigrad.save / minigrad.load: round trips, and clear errors for foreign or damaged files."""
import pickle

import numpy as np
import pytest
import torch

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


# ---- hostile or foreign files, and PyTorch's conventions -----------------------------------
def test_npy_file_is_a_clear_error(tmp_path):
    np.save(tmp_path / "weights.npy", np.zeros(3))
    with pytest.raises(CheckpointError, match=r"weights.npy is a NumPy .npy array, not a "
                                              "minigrad checkpoint"):
        minigrad.load(tmp_path / "weights.npy")


def test_structure_nested_100000_deep_is_a_clear_error(tmp_path):
    depth = 100_000
    root = "[" * depth + "]" * depth                  # what a hostile file can hold
    structure = '{"format": "minigrad-checkpoint-1", "root": ' + root + "}"
    np.savez(tmp_path / "deep.npz", __structure__=np.array(structure))
    with pytest.raises(CheckpointError, match="deep.npz: its structure is nested too deeply"):
        minigrad.load(tmp_path / "deep.npz")
    nested = []
    for _ in range(depth):
        nested = [nested]
    with pytest.raises(ValueError, match="nested too deeply"):
        minigrad.save(nested, tmp_path / "deep2.npz")
    assert not (tmp_path / "deep2.npz").exists()


def test_object_arrays_are_refused_at_save_time(tmp_path):
    with pytest.raises(TypeError, match="array of Python objects"):
        minigrad.save({"x": np.array([{"a": 1}, None], dtype=object)}, tmp_path / "o.npz")
    assert list(tmp_path.iterdir()) == []           # no file it could not load back


def test_requires_grad_and_parameter_survive_like_torch(tmp_path):
    from minigrad import nn
    obj = {"p": nn.Parameter(np.ones(2, np.float32)),
           "frozen": nn.Parameter(np.ones(2, np.float32), requires_grad=False),
           "leaf": minigrad.zeros(3, requires_grad=True), "plain": minigrad.zeros(3)}
    ref = {"p": torch.nn.Parameter(torch.ones(2)),
           "frozen": torch.nn.Parameter(torch.ones(2), requires_grad=False),
           "leaf": torch.zeros(3, requires_grad=True), "plain": torch.zeros(3)}
    minigrad.save(obj, tmp_path / "ours.npz")
    torch.save(ref, tmp_path / "ref.pt")
    back, ref_back = minigrad.load(tmp_path / "ours.npz"), torch.load(tmp_path / "ref.pt")
    for k in obj:
        assert isinstance(back[k], nn.Parameter) == isinstance(ref_back[k], torch.nn.Parameter)
        assert back[k].requires_grad == ref_back[k].requires_grad, k
        assert back[k].is_leaf


def test_load_accepts_map_location_and_weights_only(tmp_path):
    minigrad.save({"w": minigrad.ones(2)}, tmp_path / "ck.npz")
    for kw in [{"map_location": "cpu"}, {"map_location": torch.device("cpu")},
               {"weights_only": True}, {"map_location": minigrad.device("cpu"),
                                        "weights_only": False}]:
        back = minigrad.load(tmp_path / "ck.npz", **kw)
        assert back["w"].device == "cpu" and back["w"].tolist() == [1.0, 1.0]
    with pytest.raises(ValueError, match="unknown device"):
        minigrad.load(tmp_path / "ck.npz", map_location="tpu")


@pytest.mark.cuda
def test_load_with_map_location_cuda(tmp_path):
    minigrad.save({"w": minigrad.ones(2)}, tmp_path / "ck.npz")
    assert minigrad.load(tmp_path / "ck.npz", map_location="cuda")["w"].device == "cuda"


def test_a_minigrad_state_dict_loads_into_a_pytorch_model(tmp_path):
    from examples.lenet import lenet
    ours = lenet()
    ref = lenet(torch.nn)
    ref.load_state_dict(ours.state_dict())           # straight from memory
    x = np.random.default_rng(0).random((2, 1, 28, 28), dtype=np.float32)
    np.testing.assert_allclose(ref(torch.tensor(x)).detach().numpy(),
                               ours(minigrad.tensor(x)).detach().numpy(), rtol=1e-5, atol=1e-6)
    minigrad.save(ours.state_dict(), tmp_path / "sd.npz")   # and through a file
    ref2 = lenet(torch.nn)
    ref2.load_state_dict(minigrad.load(tmp_path / "sd.npz"))
    for k, v in ref2.state_dict().items():
        np.testing.assert_array_equal(v.numpy(), ours.state_dict()[k].numpy(), err_msg=k)


# ---- atomic saves: the old file survives an interrupted or failed save ----------------------
SAVER = """
import os, resource, signal, sys
import numpy as np
import minigrad
path, fault = sys.argv[1], sys.argv[2]
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)        # a too-big write fails with EFBIG instead
real_savez = np.savez
def interrupted_savez(f, *args, **kwargs):
    if fault == "sigint":
        f.write(b"half a file")
        os.kill(os.getpid(), signal.SIGINT)          # Ctrl-C in the middle of the write
    if fault == "fsize":
        resource.setrlimit(resource.RLIMIT_FSIZE, (4096, resource.RLIM_INFINITY))
    return real_savez(f, *args, **kwargs)
np.savez = interrupted_savez
minigrad.save({"epoch": 2, "w": minigrad.zeros(100_000)}, path)
"""


@pytest.mark.parametrize("fault, expected", [("sigint", "KeyboardInterrupt"),
                                             ("fsize", "File too large")])
def test_an_interrupted_or_failed_save_keeps_the_previous_file(tmp_path, fault, expected):
    import subprocess
    import sys
    path = tmp_path / "checkpoint.npz"
    minigrad.save({"epoch": 1, "w": minigrad.ones(100_000)}, path)
    result = subprocess.run([sys.executable, "-c", SAVER, str(path), fault],
                            capture_output=True, text=True)
    assert result.returncode != 0 and expected in result.stderr, result.stderr[-500:]
    back = minigrad.load(path)
    assert back["epoch"] == 1 and back["w"].numpy().min() == 1.0
    assert [p.name for p in tmp_path.iterdir()] == ["checkpoint.npz"]     # no temp file left


# ---- saving into a folder that does not exist ----------------------------------------------------
def test_save_into_a_missing_folder_names_the_folder(tmp_path):
    target = tmp_path / "missing" / "model.pt"
    for m in (minigrad, torch):
        with pytest.raises(RuntimeError, match="missing"):
            m.save({"w": m.zeros(2)}, target)
    assert not (tmp_path / "missing").exists()


def test_save_and_load_through_a_file_object_as_torch(tmp_path):
    """torch.save(model.state_dict(), buffer) / torch.load(buffer): an io.BytesIO or an open
    binary file, as PyTorch takes (this raised a pathlib TypeError)."""
    import io
    model = minigrad.nn.Linear(3, 2)
    as_torch = {k: torch.tensor(v.numpy()) for k, v in model.state_dict().items()}
    for lib, state in ((minigrad, model.state_dict()), (torch, as_torch)):
        buffer = io.BytesIO()
        lib.save(state, buffer)
        buffer.seek(0)
        back = lib.load(buffer)
        assert list(back) == ["weight", "bias"]
        assert np.array_equal(back["weight"].numpy(), model.weight.detach().numpy())
    with open(tmp_path / "m.pt", "wb") as f:
        minigrad.save({"x": minigrad.ones(2)}, f)
    with open(tmp_path / "m.pt", "rb") as f:
        assert minigrad.load(f)["x"].tolist() == [1.0, 1.0]
