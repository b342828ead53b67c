"""Run a script's "cuda" code on the CPU, through minigrad's own CUDA kernels compiled by g++:

    python -m minigrad.emulate [options] script.py [script args]
    python -m minigrad.emulate [options] -m module [module args]   (e.g. -m pytest ...)

options:
    --sanitize     build the kernels with AddressSanitizer and UBSan: any out-of-bounds or
                   undefined access in a kernel is an error of the launch that made it
    --racecheck    record every memory access: races between threads (no __syncthreads()
                   between), between blocks, and reads of unwritten __shared__ memory
    --memstats     count, per kernel and per access in its source, global-memory sectors
                   per warp access (coalescing) and shared-memory bank conflicts; the table
                   is printed on stderr at exit
    --sms N        the emulated device reports N multiprocessors (132: an H200's grids)

It installs the emulator in CuPy's place (``fake_cupy.install``) and runs the script as
``python script.py`` would. It sets MINIGRAD_EMULATE_CUDA=1 (tests/conftest.py installs the
emulator for a pytest session on it) and MINIGRAD_REQUIRE_CUDA=1 (a GPU test cannot pass by
skipping). --sanitize re-executes Python with the sanitizers' runtime preloaded
(``fake_cupy.sanitizer_env``): it must be loaded before anything else in the process.
`make test-emulated` runs the GPU tests this way. What it is, and what it is not, is printed
on stderr first (``BANNER``).
"""
import atexit
import os
import runpy
import sys
import time

USAGE = ("usage: python -m minigrad.emulate [--sanitize] [--racecheck] [--memstats] [--sms N] "
         "(script.py | -m module) [args...]")

BANNER = """\
[minigrad.emulate] "cuda" is a CPU EMULATION of minigrad's CUDA kernels, not a GPU: each
[minigrad.emulate] kernel's own source is compiled by g++ and every GPU thread runs as a fiber,
[minigrad.emulate] block after block, on one CPU core. Results and errors are the kernels' own;
[minigrad.emulate] timings mean nothing: it is thousands of times slower than a GPU and
[minigrad.emulate] hundreds of times slower than minigrad's NumPy "cpu" path (LeNet trains at
[minigrad.emulate] about 10 images a second). The first launch of each kernel file compiles
[minigrad.emulate] it (seconds; cached). checks: {checks}"""


def parse(argv):
    """(options, target, args): options a dict, target ("script", path) or ("module", name)."""
    options = {"sanitize": False, "racecheck": False, "memstats": False, "sms": None}
    it = iter(argv)
    for a in it:
        if a in ("--sanitize", "--racecheck", "--memstats"):
            options[a[2:]] = True
        elif a == "--sms":
            options["sms"] = int(next(it, "x"))
        elif a == "-m":
            module = next(it, None)
            if module is None:
                raise SystemExit(USAGE)
            return options, ("module", module), list(it)
        elif a in ("-h", "--help"):
            print(__doc__)
            raise SystemExit(0)
        elif a.startswith("-"):
            raise SystemExit(f"unknown option {a}\n{USAGE}")
        else:
            return options, ("script", a), list(it)
    raise SystemExit(USAGE)


def environment(options):
    """The variables the run needs (the checks are read from them when fake_cupy loads)."""
    from minigrad.emulate import fake_cupy
    env = {"MINIGRAD_EMULATE_CUDA": "1", "MINIGRAD_REQUIRE_CUDA": "1"}
    if options["sanitize"]:
        env.update(fake_cupy.sanitizer_env())
    if options["racecheck"]:
        env["MINIGRAD_EMU_RACECHECK"] = "1"
    if options["memstats"]:
        env["MINIGRAD_EMU_MEMSTATS"] = "1"
    if options["sms"] is not None:
        env["MINIGRAD_EMU_SMS"] = str(options["sms"])
    return env


def main(argv):
    options, (kind, target), args = parse(argv)
    if kind == "script" and not os.path.isfile(target):
        raise SystemExit(f"python -m minigrad.emulate: can't open file {target!r}")
    env = environment(options)
    needs_restart = "LD_PRELOAD" in env and os.environ.get("LD_PRELOAD") != env["LD_PRELOAD"]
    os.environ.update(env)
    if needs_restart:       # the ASan runtime must be the first library the process loads
        os.execv(sys.executable, [sys.executable, "-m", "minigrad.emulate", *argv])
    from minigrad.emulate import fake_cupy
    fake_cupy.CHECKS = fake_cupy.checks_from_environment()
    if options["sms"] is not None:
        fake_cupy.set_sm_count(options["sms"])
    checks = ["launch limits", "__shared__ bounds", "barrier divergence",
              "poisoned __shared__ and empty() memory", "argument types",
              *sorted(fake_cupy.CHECKS)]
    print(BANNER.format(checks=", ".join(checks)), file=sys.stderr, flush=True)
    fake_cupy.install()
    started = time.perf_counter()
    atexit.register(report, fake_cupy, started)
    sys.argv = [target, *args]
    if kind == "module":
        runpy.run_module(target, run_name="__main__", alter_sys=True)
    else:
        sys.path.insert(0, os.path.dirname(os.path.abspath(target)))
        runpy.run_path(target, run_name="__main__")


def report(fake_cupy, started):
    """At exit: what the emulated device did, and with --memstats the access table."""
    from minigrad.emulate import capture
    s = capture.stats
    print(f"[minigrad.emulate] {s.kernels} kernel launches, {s.ops} array operations, "
          f"{time.perf_counter() - started:.1f} s (emulated: not a GPU's time)",
          file=sys.stderr, flush=True)
    if "memstats" in fake_cupy.CHECKS:
        print(fake_cupy.memstats_table(), file=sys.stderr, flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
