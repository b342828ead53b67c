// Host emulation of the few CUDA features minigrad's kernels use, so that tests can run
// the kernels' own source on a CPU (tests/test_cuda.py, the "emulated" case). It checks
// the kernels' logic — indexing, bounds, gathers, split-K, launch sizes — not their speed,
// and not what only hardware shows (races between warps, memory faults).
//
// Blocks run one after another. Inside a block, a kernel without __syncthreads() runs its
// threads one after another; one with it runs each thread as a real std::thread (reused
// from block to block), and __syncthreads() is a barrier they all meet at. __shared__ becomes static: one copy,
// shared by the threads of the (single, current) block.
#pragma once
#include <algorithm>
#include <barrier>
#include <cmath>
#include <functional>
#include <thread>
#include <vector>

struct dim3 {
    unsigned x = 1, y = 1, z = 1;
};

namespace emu {
inline thread_local dim3 thread_idx;
inline thread_local dim3 block_idx;
inline dim3 block_dim;
inline dim3 grid_dim;
inline std::barrier<>* block_barrier = nullptr;

inline void launch(dim3 grid, dim3 block, bool threaded, const std::function<void()>& body) {
    grid_dim = grid;
    block_dim = block;
    const unsigned per_block = block.x * block.y * block.z;
    const unsigned blocks = grid.x * grid.y * grid.z;
    auto enter = [&](unsigned b, unsigned t) {
        block_idx = dim3{b % grid.x, (b / grid.x) % grid.y, b / (grid.x * grid.y)};
        thread_idx = dim3{t % block.x, (t / block.x) % block.y, t / (block.x * block.y)};
    };
    if (!threaded) {
        for (unsigned b = 0; b < blocks; ++b)
            for (unsigned t = 0; t < per_block; ++t) { enter(b, t); body(); }
        return;
    }
    // One OS thread per CUDA thread of a block, reused for every block in turn; the barrier
    // after each block keeps its shared memory intact until all its threads are done.
    std::barrier<> barrier(per_block);
    block_barrier = &barrier;
    std::vector<std::thread> threads;
    for (unsigned t = 0; t < per_block; ++t)
        threads.emplace_back([&, t] {
            for (unsigned b = 0; b < blocks; ++b) {
                enter(b, t);
                body();
                barrier.arrive_and_wait();
            }
        });
    for (auto& th : threads) th.join();
    block_barrier = nullptr;
}
}  // namespace emu

#define threadIdx emu::thread_idx
#define blockIdx emu::block_idx
#define blockDim emu::block_dim
#define gridDim emu::grid_dim
#define __global__
#define __device__
#define __forceinline__ inline
#define __shared__ static
inline void __syncthreads() { emu::block_barrier->arrive_and_wait(); }
using std::max;
using std::min;
