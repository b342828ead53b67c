"""What both benchmark scripts share: the machine description, timers that synchronise
the GPU, robust summaries, and the three outputs (Markdown table, JSON, PNG chart)."""
import datetime
import json
import os
import platform
import statistics
import subprocess
import time

import numpy as np

import minigrad


def torch_or_none():
    try:
        import torch
        return torch
    except ImportError:
        return None


def machine():
    """CPU, GPU, load and library versions: stored with every result."""
    info = {"date": datetime.datetime.now().isoformat(timespec="seconds"),
            "python": platform.python_version(), "numpy": np.__version__,
            "minigrad": minigrad.__version__, "cpu_cores": os.cpu_count(),
            "load_average": list(os.getloadavg()), "cpu": platform.processor() or "?"}
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                info["cpu"] = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    torch = torch_or_none()
    info["torch"] = torch.__version__ if torch else None
    if torch:
        info["torch_threads"] = torch.get_num_threads()
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


def summary(samples):
    """Median and spread of a list of seconds."""
    return {"median": statistics.median(samples), "min": min(samples), "max": max(samples),
            "n": len(samples)}


def interleaved(entries, repeats, calls, warmup=3):
    """Time every entry (name -> (fn, Timer)) ``repeats`` times, taking turns, so that drift
    of the machine hits all of them alike. Returns name -> summary (seconds per call)."""
    for fn, timer in entries.values():
        for _ in range(warmup):
            fn()
        timer.sync()
    samples = {name: [] for name in entries}
    for _ in range(repeats):
        for name, (fn, timer) in entries.items():
            timer.sync()
            samples[name].append(timer.seconds(fn, calls))
    return {name: summary(s) for name, s in samples.items()}


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


def machine_line(info):
    gpu = info["gpu"] or f"no GPU ({info.get('gpu_unavailable', '')[:60]})"
    return (f"{info['date']} · {info['cpu']} ({info['cpu_cores']} cores, load "
            f"{info['load_average'][0]:.2f}) · {gpu} · numpy {info['numpy']} · "
            f"torch {info['torch']}")
