"""MINIGRAD_DEBUG=1: a trace of every op, forward and backward, and a summary at exit.

With the environment variable set when minigrad is imported (or after
``minigrad.debug.enable()`` inside a session), each op prints one line on stderr::

    [minigrad] forward  Conv2d         (4,1,28,28) (6,1,5,5) (6,) -> (4,6,24,24)    cpu  0.841 ms
    [minigrad] backward Conv2dBackward (4,6,24,24) -> - (6,1,5,5) (6,)            cpu  0.264 ms

the phase, the op, its input shapes (arrays only) and output shapes, the device and the
time it took. A backward's inputs are the gradient it receives, its outputs the gradients
it returns, one per input of the op ("-" for an input that needs none: here the image).
On the GPU, kernels run asynchronously, so in this mode the device is synchronised before
and after each op: the time is the op's own, and the whole run is slower (and a stream
being captured into a CUDA graph cannot be synchronised: trace eager runs). At exit (or on
``summary()``) a table per op type: how many calls and their total time.

MINIGRAD_DEBUG=2 adds every CUDA kernel launch, as it is made (so before the line of the op
that made it, which prints when the op is done)::

    [minigrad] launch   sigmoid_fwd<float>     grid (1,1,1) block (256,1,1) shared 0 B

the kernel, its grid and block of threads, and its static shared memory per block (our
kernels use no dynamic shared memory). The summary then also counts launches per kernel.

Off, the cost is one boolean test per op (and per launch): the variable is read once, at
import.
"""
import atexit
import os
import sys
import time

_LEVEL = os.environ.get("MINIGRAD_DEBUG", "")
ENABLED = _LEVEL not in ("", "0")
LAUNCHES = _LEVEL.isdigit() and int(_LEVEL) >= 2     # runtime.launch reads it per launch
_totals = {}              # (phase, op name) -> [calls, seconds]
_launches = {}            # kernel -> launches
_shared_bytes = {}        # kernel -> its static shared memory (asked once)
_registered = [False]


def enable(on=True, launches=False):
    """Turn the trace on (or off) from inside a session, with each kernel launch too when
    ``launches`` (MINIGRAD_DEBUG=2); the summary prints at exit."""
    global ENABLED, LAUNCHES
    ENABLED = bool(on)
    LAUNCHES = ENABLED and bool(launches)
    if ENABLED and not _registered[0]:
        atexit.register(_print_summary)
        _registered[0] = True


def reset():
    """Forget the counts the summary would print."""
    _totals.clear()
    _launches.clear()


def _shape(array):
    if array is None:
        return "-"                                  # an input that gets no gradient
    return str(tuple(array.shape)).replace(" ", "")


def _arrays(values, keep_none=False):
    if not isinstance(values, (tuple, list)):
        values = (values,)
    return [v for v in values if (hasattr(v, "shape") and hasattr(v, "dtype"))
            or (keep_none and v is None)]


def _sync(arrays):
    """Wait for the GPU when any of ``arrays`` lives there (CuPy's arrays say so)."""
    if any(hasattr(a, "__cuda_array_interface__") for a in arrays):
        import cupy
        cupy.cuda.get_current_stream().synchronize()


def _timed(phase, name, fn, args, inputs):
    _sync(inputs)
    start = time.perf_counter()
    result = fn(*args)
    outputs = _arrays(result, keep_none=phase == "backward")
    _sync([a for a in outputs if a is not None])
    seconds = time.perf_counter() - start
    total = _totals.setdefault((phase, name), [0, 0.0])
    total[0] += 1
    total[1] += seconds
    device = "cuda" if any(hasattr(a, "__cuda_array_interface__")
                           for a in inputs + outputs) else "cpu"
    shapes = " ".join(map(_shape, inputs)) + " -> " + " ".join(map(_shape, outputs))
    print(f"[minigrad] {phase:<8} {name:<22} {shapes:<48} {device:<4} "
          f"{seconds * 1e3:8.3f} ms", file=sys.stderr)
    return result


def forward(cls, ctx, arrays, params):
    """``cls.forward(ctx, *arrays, **params)``, traced (Function.apply calls this when on)."""
    return _timed("forward", cls.__name__, lambda: cls.forward(ctx, *arrays, **params), (),
                  _arrays(arrays))


def backward(node, grad):
    """``node.fn.backward(node, grad)``, traced (the backward walk calls this when on)."""
    return _timed("backward", node.name, node.fn.backward, (node, grad), _arrays(grad))


def launch(name, function, grid, block):
    """One line for a kernel launch (backend/cuda/runtime.launch calls this when LAUNCHES):
    ``name`` as "gemm<float>", ``function`` the kernel (its attributes give the static shared
    memory), grid and block as given to it."""
    if name not in _shared_bytes:
        try:
            _shared_bytes[name] = int(function.attributes["shared_size_bytes"])
        except Exception:  # a stand-in without attributes
            _shared_bytes[name] = None
    shared = _shared_bytes[name]
    _launches[name] = _launches.get(name, 0) + 1
    print(f"[minigrad] {'launch':<8} {name:<22} grid {_dim3(grid)} block {_dim3(block)} "
          f"shared {'?' if shared is None else shared} B", file=sys.stderr)


def _dim3(d):
    d = (d,) if isinstance(d, int) else tuple(d)
    return "(" + ",".join(str(int(v)) for v in d + (1,) * (3 - len(d))) + ")"


def summary():
    """The table printed at exit: calls and total milliseconds per op type, slowest first."""
    if not _totals:
        return "[minigrad] debug summary: no op ran"
    rows = sorted(_totals.items(), key=lambda item: -item[1][1])
    lines = ["[minigrad] debug summary (per op type):",
             f"[minigrad] {'phase':<8} {'op':<22} {'calls':>7} {'total ms':>10}"]
    lines += [f"[minigrad] {phase:<8} {name:<22} {calls:>7} {seconds * 1e3:>10.3f}"
              for (phase, name), (calls, seconds) in rows]
    calls = sum(c for c, _ in _totals.values())
    seconds = sum(s for _, s in _totals.values())
    lines.append(f"[minigrad] {'all':<8} {'':<22} {calls:>7} {seconds * 1e3:>10.3f}")
    if _launches:
        lines.append(f"[minigrad] kernel launches: {sum(_launches.values())}")
        lines += [f"[minigrad] {'launch':<8} {name:<22} {n:>7}"
                  for name, n in sorted(_launches.items(), key=lambda item: -item[1])]
    return "\n".join(lines)


def _print_summary():
    if _totals:
        print(summary(), file=sys.stderr)


if ENABLED:
    enable(launches=LAUNCHES)
