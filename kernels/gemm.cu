// Our own GEMM for linear and conv layers (cuBLAS is only a comparison in benchmarks: CuPy
// cannot capture it in a CUDA graph), plus the bias-gradient reduction.
//
//   C[z] = op(A[b]) @ op(B[b]) (+ bias)          M x N = (M x K) @ (K x N)
//
// op(A) is A stored row-major as (M, K), or, with transA, A stored as (K, M) and read
// transposed; the same for B with (K, N) / (N, K). A batch item b reads A at b*strideA
// (0 shares one matrix across the batch, as a conv's weight is shared by all images).
//
// Each block computes TILE x TILE tiles of output matrices: thread (ty, tx) owns element
// (row m0+ty, column n0+tx) of its tile. Per step of TILE along K the block stages a tile of
// op(A) and of op(B) in shared memory, then every thread takes its dot product from there.
// All loads are bounds-checked, so any M, N, K works.
//
// The output is split into column tiles (x), row tiles (y) and batch chunks (z); chunk z
// covers batch items b = z*perBlock ... (z+1)*perBlock - 1 and sums their products:
// perBlock = 1 is a plain batched GEMM; perBlock > 1 with all items summed is split-K over
// the batch (a conv's weight gradient Σ_n g[n] @ cols[n]ᵀ), whose partial results
// sum_partials then adds up in a fixed order: no atomics, same bits every run. The grid may
// be smaller than the tile and chunk counts (gridDim.y and .z stop at 65,535 on the device,
// and the launcher caps them), so each block loops over the tiles and chunks that are its
// own, striding by the grid; every loop bound is the same for the whole block, so all its
// threads meet at each __syncthreads().
// TILE, the tile edge, comes from the launcher (backend/cuda.py passes -DTILE=16), so the
// Python grid arithmetic and the kernel cannot disagree.
#ifndef TILE
#error "compile with -DTILE=<tile edge> (backend/cuda.py does)"
#endif

template <typename T>
__global__ void gemm(const T* __restrict__ A, const T* __restrict__ B, T* __restrict__ C,
                     const T* __restrict__ bias, int M, int N, int K, int transA, int transB,
                     long long strideA, long long strideB, int batch, int perBlock,
                     int biasMode) {
    __shared__ T As[TILE][TILE];
    __shared__ T Bs[TILE][TILE];
    const int tx = threadIdx.x, ty = threadIdx.y;
    const int tilesN = (N + TILE - 1) / TILE, tilesM = (M + TILE - 1) / TILE;
    const int chunks = (batch + perBlock - 1) / perBlock;
    for (int z = blockIdx.z; z < chunks; z += gridDim.z)
    for (int tm = blockIdx.y; tm < tilesM; tm += gridDim.y)
    for (int tn = blockIdx.x; tn < tilesN; tn += gridDim.x) {
        const int m = tm * TILE + ty;
        const int n = tn * TILE + tx;
        T acc = 0;
        const long long bEnd = min((long long)batch, (z + 1LL) * perBlock);
        for (long long b = (long long)z * perBlock; b < bEnd; ++b) {
            const T* Ab = A + b * strideA;
            const T* Bb = B + b * strideB;
            for (int k0 = 0; k0 < K; k0 += TILE) {
                // this thread stages op(A)[m, k0+tx] and op(B)[k0+ty, n]
                const int ka = k0 + tx, kb = k0 + ty;
                As[ty][tx] = (m < M && ka < K)
                    ? (transA ? Ab[(long long)ka * M + m] : Ab[(long long)m * K + ka]) : T(0);
                Bs[ty][tx] = (kb < K && n < N)
                    ? (transB ? Bb[(long long)n * K + kb] : Bb[(long long)kb * N + n]) : T(0);
                __syncthreads();
                for (int k = 0; k < TILE; ++k)
                    acc += As[ty][k] * Bs[k][tx];
                __syncthreads();
            }
        }
        if (m < M && n < N) {
            if (biasMode == 1) acc += bias[m];          // one bias per row: conv channels
            else if (biasMode == 2) acc += bias[n];     // one bias per column: linear features
            C[(long long)z * M * N + (long long)m * N + n] = acc;
        }
    }
}

// out[e] = Σ_s partial[s, e] for s = 0 .. splits-1, in that order. One thread per element.
template <typename T>
__global__ void sum_partials(const T* __restrict__ partial, T* __restrict__ out,
                             int splits, long long size) {
    for (long long e = blockIdx.x * (long long)blockDim.x + threadIdx.x; e < size;
         e += (long long)gridDim.x * blockDim.x) {
        T s = 0;
        for (int k = 0; k < splits; ++k) s += partial[(long long)k * size + e];
        out[e] = s;
    }
}

// db[c] = Σ over outer o and inner p of g[o, c, p]  (g: (outer, C, inner)).
// One block per channel c: each thread sums a strided share of the outer*inner values,
// then the block adds the threads' sums as a tree in shared memory. blockDim.x must be a
// power of two ≤ 1024 (the launcher uses 256).
template <typename T>
__global__ void bias_grad(const T* __restrict__ g, T* __restrict__ db,
                          int outer, int C, int inner) {
    __shared__ T part[1024];
    const int c = blockIdx.x;
    const long long count = (long long)outer * inner;
    T s = 0;
    for (long long e = threadIdx.x; e < count; e += blockDim.x) {
        const long long o = e / inner, p = e % inner;
        s += g[(o * C + c) * inner + p];
    }
    part[threadIdx.x] = s;
    __syncthreads();
    for (int half = blockDim.x / 2; half > 0; half /= 2) {
        if (threadIdx.x < half) part[threadIdx.x] += part[threadIdx.x + half];
        __syncthreads();
    }
    if (threadIdx.x == 0) db[c] = part[0];
}
