"""The GPU on a laptop: minigrad's CUDA kernels run on the CPU, their own source compiled by g++.

    python -m minigrad.emulate [--sanitize] [--racecheck] [--memstats] [--sms N] script.py ...

runs a script with this emulator in CuPy's place, so its "cuda" tensors and kernels work on
any machine with g++ (see ``__main__.py``). It is an emulation, not a GPU: results and the
errors it catches are the kernels' own, timings mean nothing.

    fake_cupy.py   the stand-in for CuPy: device arrays, RawModule (kernels built with
                   shim.h), launches and their checks, memory-access statistics
    shim.h         the CUDA features the kernels use, for the host compiler: threads as
                   fibers, __syncthreads, checked __shared__ memory, race and access records
    capture.py     streams, events, memory pools, CUDA-graph capture and replay, counters
    __main__.py    the command line

Importing minigrad never imports this package; the tests install it through tests/helpers.py.
"""
