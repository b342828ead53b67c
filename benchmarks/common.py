"""What both benchmark scripts share: the machine as the system describes it, timers that
synchronise the GPU, one process per configuration driven in turns, robust summaries, and
the three outputs (Markdown table, JSON, PNG chart).

Why a process per configuration: after any NumPy matrix product, OpenBLAS's worker threads
keep spinning for a while, and PyTorch's OpenMP threads do the same after each parallel
region; in one process (or with a busy neighbour) they take the cores from whatever runs
next. So each configuration lives in its own worker process, the driver asks them in turns
(round 1 of every configuration, then round 2, ...) with a pause between turns for spinning
threads to go to sleep, and it checks that they did: every turn records the CPU time the
idle workers used meanwhile, and how much of the machine other processes took.
"""
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

import minigrad

ROOT = Path(__file__).resolve().parent.parent
THREAD_ENV = ("OMP_", "OPENBLAS_", "MKL_", "GOMP_", "KMP_", "GOTO_", "NUMEXPR_")
ONE_THREAD_ENV = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def torch_or_none():
    try:
        import torch
        return torch
    except ImportError:
        return None


# ---- the machine ---------------------------------------------------------------------------
def _lscpu():
    """lscpu's fields (model, vendor, hypervisor, cores, caches), or {} without lscpu."""
    try:
        text = subprocess.run(["lscpu"], capture_output=True, text=True, timeout=20,
                              env={**os.environ, "LC_ALL": "C"}).stdout
    except (OSError, subprocess.SubprocessError):
        return {}
    keep = ("Model name", "Vendor ID", "Hypervisor vendor", "Virtualization type", "CPU(s)",
            "Thread(s) per core", "Core(s) per socket", "Socket(s)", "CPU max MHz",
            "L1d cache", "L2 cache", "L3 cache", "BogoMIPS")
    fields = dict(line.split(":", 1) for line in text.splitlines() if ":" in line)
    return {k: fields[k].strip() for k in keep if k in fields}


def _cpuinfo_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "?"


def _meminfo_gib():
    try:
        with open("/proc/meminfo") as f:
            return round(int(f.readline().split()[1]) / 2**20, 1)
    except (OSError, ValueError, IndexError):
        return None


def numpy_blas():
    """NumPy's BLAS as its build says (name, version, configuration) and the SIMD extensions
    it runs with here."""
    try:
        config = np.show_config(mode="dicts")
    except TypeError:                                          # NumPy < 1.26
        return {}
    blas = config.get("Build Dependencies", {}).get("blas", {})
    simd = config.get("SIMD Extensions", {})
    return {"name": blas.get("name"), "version": blas.get("version"),
            "openblas configuration": blas.get("openblas configuration"),
            "simd found": simd.get("found")}


def thread_env():
    return {k: v for k, v in sorted(os.environ.items()) if k.startswith(THREAD_ENV)}


def machine():
    """Where the numbers come from, read from the system (never written by hand): CPU model
    and topology (lscpu, /proc/cpuinfo), cores, memory, load, kernel, library versions,
    NumPy's BLAS, the thread variables in the environment, and the GPU if any."""
    info = {"date": datetime.datetime.now().isoformat(timespec="seconds"),
            "cpu": _cpuinfo_model(), "lscpu": _lscpu(), "cpu_cores": os.cpu_count(),
            "usable_cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
            else os.cpu_count(),
            "memory_gib": _meminfo_gib(), "load_average": list(os.getloadavg()),
            "kernel": platform.release(), "python": platform.python_version(),
            "numpy": np.__version__, "numpy_blas": numpy_blas(),
            "minigrad": minigrad.__version__, "thread_env": thread_env()}
    torch = torch_or_none()
    info["torch"] = torch.__version__ if torch else None
    if torch:
        info["torch_default_threads"] = torch.get_num_threads()
    if minigrad.cuda.is_available():
        import cupy
        info["gpu"] = minigrad.cuda.device_name()
        info["cupy"] = cupy.__version__
        info["cuda_driver"] = cupy.cuda.runtime.driverGetVersion()
        try:
            info["nvidia_driver"] = subprocess.run(
                ["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader"],
                capture_output=True, text=True, timeout=20).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            pass
    else:
        info["gpu"] = None
        info["gpu_unavailable"] = minigrad.cuda.unavailable_reason()
    return info


def machine_line(info):
    lscpu = info.get("lscpu", {})
    where = f", {lscpu['Hypervisor vendor']} guest" if lscpu.get("Hypervisor vendor") else ""
    gpu = info["gpu"] or "no GPU"
    blas = info.get("numpy_blas", {})
    return (f"{info['date']} · {info['cpu']} ({info['cpu_cores']} cores{where}, load "
            f"{info['load_average'][0]:.2f}) · {gpu} · numpy {info['numpy']} "
            f"({blas.get('name', '?')} {blas.get('version', '')}) · torch {info['torch']}"
            + (f" · thread env {info['thread_env']}" if info["thread_env"] else ""))


# ---- timing inside a worker -------------------------------------------------------------------
class Timer:
    """Times ``fn`` as the device sees it: a host clock on the CPU; CUDA events recorded on
    the stream around the calls on the GPU (cupy or torch)."""

    def __init__(self, kind):
        self.kind = kind          # "cpu", "cupy" or "torch"

    def sync(self):
        if self.kind == "cupy":
            import cupy
            cupy.cuda.get_current_stream().synchronize()
        elif self.kind == "torch":
            torch_or_none().cuda.synchronize()

    def seconds(self, fn, calls=1):
        """Seconds per call of ``calls`` back-to-back calls."""
        self.sync()
        if self.kind == "cpu":
            t0 = time.perf_counter()
            for _ in range(calls):
                fn()
            return (time.perf_counter() - t0) / calls
        if self.kind == "cupy":
            import cupy
            start, end = cupy.cuda.Event(), cupy.cuda.Event()
            start.record()
            for _ in range(calls):
                fn()
            end.record()
            end.synchronize()
            return cupy.cuda.get_elapsed_time(start, end) / 1e3 / calls
        torch = torch_or_none()
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        for _ in range(calls):
            fn()
        end.record()
        end.synchronize()
        return start.elapsed_time(end) / 1e3 / calls


def use_threads(spec):
    """Set up this worker's threads as ``spec`` asks and say what they are. threads 1: one
    each (the driver also started this process with OMP/OPENBLAS/MKL_NUM_THREADS=1);
    None: each framework's default, untouched (minigrad: one thread per usable core, PyTorch
    its own), as user code that calls no setup function gets it."""
    from minigrad.backend import cpu, cpu_form
    settings = {"framework": spec["framework"], "device": spec["device"]}
    if spec["framework"] == "minigrad":
        settings["cpu_form"] = cpu_form()              # MINIGRAD_CPU, as the worker sees it
        if spec["threads"]:
            minigrad.set_num_threads(spec["threads"])
        settings["threads"] = minigrad.get_num_threads()
    else:
        torch = torch_or_none()
        if spec["threads"]:
            torch.set_num_threads(spec["threads"])
        settings["threads"] = torch.get_num_threads()
        settings["torch_parallel"] = torch.__config__.parallel_info().splitlines()[:6]
    settings["numpy_blas_threads"] = cpu.blas_num_threads()
    settings["thread_env"] = thread_env()
    return settings


def serve(setup):
    """The worker side: ``setup()`` returns (settings, handlers); tell the driver the
    settings, then answer its commands (one JSON line each) until it says quit. Anything the
    configuration prints goes to stderr, so stdout carries only the answers."""
    answers, sys.stdout = sys.stdout, sys.stderr
    settings, handlers = setup()
    answers.write(json.dumps({"ready": settings}) + "\n")
    answers.flush()
    for line in sys.stdin:
        command = json.loads(line)
        name = command.pop("cmd")
        if name == "quit":
            break
        answers.write(json.dumps(handlers[name](**command)) + "\n")
        answers.flush()


# ---- driving the workers ---------------------------------------------------------------------
def _cpu_seconds(pid):
    """CPU time (user + system, every thread) used so far by process ``pid``."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return 0.0


def _busy_seconds():
    """CPU time the whole machine has been busy (all cores, all processes), or None."""
    try:
        with open("/proc/stat") as f:
            ticks = [int(v) for v in f.readline().split()[1:]]
        return (sum(ticks) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


class Worker:
    """One configuration in a process of its own: ``python -m benchmarks.<script> --worker
    SPEC``, spoken to in JSON lines. ``ready`` holds the settings it reported."""

    def __init__(self, script, name, spec, one_thread=False):
        self.name = name
        env = {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
        if one_thread:
            env.update(ONE_THREAD_ENV)
        env["MINIGRAD_CPU"] = spec.get("form", "fast")        # the CPU form minigrad runs
        self.proc = subprocess.Popen(
            [sys.executable, "-m", f"benchmarks.{script}", "--worker", json.dumps(spec)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=ROOT, env=env)
        self.ready = self._receive()["ready"]

    def _receive(self):
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"benchmark worker '{self.name}' stopped (exit code "
                               f"{self.proc.wait()}); its error is printed above")
        return json.loads(line)

    def ask(self, cmd, **args):
        self.proc.stdin.write(json.dumps({"cmd": cmd, **args}) + "\n")
        self.proc.stdin.flush()
        return self._receive()

    def cpu_seconds(self):
        return _cpu_seconds(self.proc.pid)

    def close(self):
        if self.proc.poll() is None:
            try:
                self.proc.stdin.write('{"cmd": "quit"}\n')
                self.proc.stdin.close()
            except OSError:
                pass
            self.proc.wait(timeout=60)


def start_workers(script, specs):
    """name -> Worker for name -> (spec, one_thread); stops those started if one fails."""
    workers = {}
    try:
        for name, (spec, one_thread) in specs.items():
            print(f"  starting {name} ...", file=sys.stderr, flush=True)
            workers[name] = Worker(script, name, spec, one_thread)
    except BaseException:
        stop_workers(workers)
        raise
    return workers


def stop_workers(workers):
    for w in workers.values():
        w.close()


class Hogs:
    """``n`` busy processes, each a pure-Python spin loop on its own, running beside the
    workers while the context lasts (``--hog N``: how a step degrades when other programs
    hold the cores). Each also stops by itself after ``limit_s`` seconds, should the driver
    die. While they run, ``in_turns`` counts their CPU apart from the other load."""

    def __init__(self, n, limit_s=1800):
        self.n, self.limit_s, self.procs = n, limit_s, []

    def __enter__(self):
        spin = (f"import time\nend = time.monotonic() + {self.limit_s}\n"
                "while time.monotonic() < end: pass")
        self.procs = [subprocess.Popen([sys.executable, "-c", spin]) for _ in range(self.n)]
        _HOGS.extend(p.pid for p in self.procs)
        return self

    def __exit__(self, *exc):
        for p in self.procs:
            p.terminate()
        for p in self.procs:
            p.wait(timeout=30)
            _HOGS.remove(p.pid)


_HOGS = []                  # pids of the running Hogs


def in_turns(workers, cmd, rounds, pause=0.25, **args):
    """Ask every worker ``cmd`` ``rounds`` times, taking turns, so that drift of the machine
    hits every configuration alike. Before each turn the driver pauses (spinning OpenBLAS
    and OpenMP threads fall asleep within it); during each turn it measures how much CPU the
    idle workers used (should be ~0: proof they left the cores alone) and how many cores
    other processes on the machine kept busy. Returns name -> list of answers, each with
    "idle_workers_cpu_s", "other_load_cores" and "worker_cores" (CPU time / wall time of the
    worker that ran) added."""
    answers = {name: [] for name in workers}
    for _ in range(rounds):
        for name, w in workers.items():
            time.sleep(pause)
            before = {k: o.cpu_seconds() for k, o in workers.items()}
            hogs_before = sum(map(_cpu_seconds, _HOGS))
            busy, t0 = _busy_seconds(), time.perf_counter()
            answer = w.ask(cmd, **args)
            wall = time.perf_counter() - t0
            after = {k: o.cpu_seconds() for k, o in workers.items()}
            used = {k: after[k] - before[k] for k in workers}
            hogs = sum(map(_cpu_seconds, _HOGS)) - hogs_before
            answer["idle_workers_cpu_s"] = sum(v for k, v in used.items() if k != name)
            answer["worker_cores"] = used[name] / wall
            if _HOGS:
                answer["hog_cores"] = hogs / wall
            if busy is not None:
                others = _busy_seconds() - busy - sum(used.values()) - hogs
                answer["other_load_cores"] = max(0.0, others) / wall
            answers[name].append(answer)
    return answers


def quiet_turns(workers, cmd, rounds, max_load, patience_s, **args):
    """Rounds of ``in_turns`` until ``rounds`` of them ran with other processes keeping at
    most ``max_load`` cores busy during every turn (on a shared machine), or until
    ``patience_s`` seconds have passed. Returns (answers of the quiet rounds, rounds thrown
    away)."""
    kept, dropped, t0 = {name: [] for name in workers}, 0, time.perf_counter()
    while min(map(len, kept.values())) < rounds and time.perf_counter() - t0 < patience_s:
        answers = in_turns(workers, cmd, 1, **args)
        if all(a[0].get("other_load_cores", 0) <= max_load for a in answers.values()):
            for name, a in answers.items():
                kept[name] += a
        else:
            dropped += 1
    return kept, dropped


def timed_rounds(workers, cmd, rounds, quiet, patience_min, **args):
    """``in_turns``, or with ``quiet`` (the --quiet option) ``quiet_turns``, exiting with a
    message when no round was quiet enough. Returns (answers, rounds thrown away or None)."""
    if quiet is None:
        return in_turns(workers, cmd, rounds, **args), None
    answers, dropped = quiet_turns(workers, cmd, rounds, quiet, patience_min * 60, **args)
    if not all(answers.values()):
        sys.exit(f"no round was quiet enough (other load ≤ {quiet} cores) in "
                 f"{patience_min} minutes ({dropped} rounds thrown away)")
    return answers, dropped


# ---- summaries and outputs ---------------------------------------------------------------------
def summary(samples):
    """Median and spread of a list of numbers."""
    return {"median": statistics.median(samples), "min": min(samples), "max": max(samples),
            "n": len(samples)}


def conditions(answers):
    """The machine during the turns of one configuration: medians of the other processes'
    load and of the idle workers' CPU, and the cores the worker itself kept busy."""
    pick = lambda key: [a[key] for a in answers if key in a]
    out = {key: statistics.median(pick(key)) for key in
           ("other_load_cores", "idle_workers_cpu_s", "worker_cores", "hog_cores") if pick(key)}
    return out


def markdown(headers, rows):
    widths = [max(len(str(h)), *(len(str(r[i])) for r in rows)) for i, h in enumerate(headers)]
    line = lambda cells: "| " + " | ".join(str(c).ljust(w) for c, w in zip(cells, widths)) + " |"
    return "\n".join([line(headers), "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
                     + [line(r) for r in rows])


def write_json(path, payload):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=2) + "\n")


def bar_chart(path, labels, groups, title, ylabel, log=False):
    """groups: series name -> list of values (None to leave a gap), one per label."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print(f"(matplotlib not installed: no {path.name})")
        return
    fig, ax = plt.subplots(figsize=(max(6, 0.9 * len(labels) * max(1, len(groups)) / 2), 4))
    width = 0.8 / max(1, len(groups))
    for i, (series, values) in enumerate(groups.items()):
        xs = [j + i * width for j, v in enumerate(values) if v is not None]
        ys = [v for v in values if v is not None]
        ax.bar(xs, ys, width, label=series)
    ax.set_xticks([j + width * (len(groups) - 1) / 2 for j in range(len(labels))])
    ax.set_xticklabels(labels, rotation=30, ha="right")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    if log:
        ax.set_yscale("log")
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
