"""Run pytest with minigrad's GPU path on the host emulator, from the repository root:

    PYTHONPATH=tests python -m cuda_emu [--sanitize] [--racecheck] [--sms N] [pytest args]

sets MINIGRAD_EMULATE_CUDA=1 (conftest.py installs the emulator in place of CuPy) and
MINIGRAD_REQUIRE_CUDA=1 (a GPU test cannot pass by skipping), then replaces this process by
pytest. --sanitize builds the kernels with AddressSanitizer and UBSan: their runtime must be
loaded before anything else in the process, which is why this re-executes Python with
LD_PRELOAD set (fake_cupy.sanitizer_env). --racecheck records every memory access and
reports races. --sms N makes the emulated device report N multiprocessors (132: an H200).
`make test-emulated` runs it."""
import os
import sys

from cuda_emu import fake_cupy


def main(argv):
    env = dict(os.environ, MINIGRAD_EMULATE_CUDA="1", MINIGRAD_REQUIRE_CUDA="1")
    args = []
    it = iter(argv)
    for a in it:
        if a == "--sanitize":
            env.update(fake_cupy.sanitizer_env())
        elif a == "--racecheck":
            env["MINIGRAD_EMU_RACECHECK"] = "1"
        elif a == "--sms":
            env["MINIGRAD_EMU_SMS"] = str(int(next(it)))
        else:
            args.append(a)
    print("emulated GPU run:", " ".join(f"{k}={env[k]}" for k in sorted(env)
                                        if k.startswith(("MINIGRAD_", "LD_PRELOAD"))),
          flush=True)
    os.execve(sys.executable, [sys.executable, "-m", "pytest", *args], env)


if __name__ == "__main__":
    main(sys.argv[1:])
