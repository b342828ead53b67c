// The GEMM ladder: four versions of C = op(A) @ op(B), from the simplest to the fastest
// design, each a rung up from the one before. docs/ladder.md says what each step changes
// and why it should be faster; minigrad/backend/ladder.py launches them, the tests check
// each against NumPy, and `python -m benchmarks.bench_ops --ladder` times them on a GPU
// (with --emulated, the host emulator counts their memory sectors and bank conflicts).
//
//   C (M x N) = op(A) (M x K) @ op(B) (K x N), all row-major.
//   op(A) is A stored as (M, K), or with transA, A stored as (K, M) and read transposed;
//   the same for B with (K, N) / (N, K). (The conv's backward needs both transposes.)
//
// Every rung handles any M, N, K (bounds-checked loads), loops over the output when the
// grid is smaller than it, and writes each output element from one thread: no atomics.
// TILE (the tile edge) and RB (rung 4's register block) come from the launcher
// (backend/cuda.py passes -DTILE=16 -DRB=4).
#ifndef TILE
#error "compile with -DTILE=<tile edge> (backend/cuda.py does)"
#endif
#ifndef RB
#error "compile with -DRB=<register block> (backend/cuda.py does)"
#endif

// Element (r, c) of op(X), where op(X) is R x C: X stored (R, C), or (C, R) when trans.
template <typename T>
__device__ __forceinline__ T op_at(const T* X, int r, int c, int R, int C, int trans) {
    return trans ? X[(long long)c * R + r] : X[(long long)r * C + c];
}

// ---- rung 1: naive ----------------------------------------------------------------------
// One thread per output element C[m, n], reading a row of op(A) and a column of op(B)
// straight from global memory: 2K loads for 2K flops. Neighbouring threads take
// neighbouring n, so they share op(A)'s row (one load, broadcast) and read op(B) along a
// row of B: coalesced when B is stored (K, N), a stride of K apart when transposed.
template <typename T>
__global__ void gemm_naive(const T* __restrict__ A, const T* __restrict__ B,
                           T* __restrict__ C, int M, int N, int K, int transA, int transB) {
    const long long total = (long long)M * N;
    for (long long e = blockIdx.x * (long long)blockDim.x + threadIdx.x; e < total;
         e += (long long)gridDim.x * blockDim.x) {
        const int m = (int)(e / N), n = (int)(e % N);
        T acc = 0;
        for (int k = 0; k < K; ++k)
            acc += op_at(A, m, k, M, K, transA) * op_at(B, k, n, K, N, transB);
        C[e] = acc;
    }
}

// ---- rung 2: tiled in shared memory ---------------------------------------------------
// A TILE x TILE block of threads computes a TILE x TILE tile of C; thread (ty, tx) owns
// C[m0+ty, n0+tx]. Per step of TILE along K, the block copies a tile of op(A) and of op(B)
// into shared memory (each thread one element of each), waits (__syncthreads), and every
// thread takes TILE multiply-adds from there. Each loaded element is used TILE times: global
// traffic falls by a factor of TILE. Thread (ty, tx) loads op(A)[m0+ty, k0+tx] — for a
// transposed A that is A[k0+tx, m0+ty], so neighbouring tx are M elements apart in memory.
// (kernels/gemm.cu, the production GEMM, started as this rung; it is now rung 3 below,
// with tile shapes per product, batching, bias and split-K.)
template <typename T>
__global__ void gemm_tiled(const T* __restrict__ A, const T* __restrict__ B,
                           T* __restrict__ C, int M, int N, int K, int transA, int transB) {
    __shared__ T As[TILE][TILE];
    __shared__ T Bs[TILE][TILE];
    const int tx = threadIdx.x, ty = threadIdx.y;
    const int tilesM = (M + TILE - 1) / TILE, tilesN = (N + TILE - 1) / TILE;
    for (int tm = blockIdx.y; tm < tilesM; tm += gridDim.y)
    for (int tn = blockIdx.x; tn < tilesN; tn += gridDim.x) {
        const int m = tm * TILE + ty, n = tn * TILE + tx;
        T acc = 0;
        for (int k0 = 0; k0 < K; k0 += TILE) {
            As[ty][tx] = (m < M && k0 + tx < K) ? op_at(A, m, k0 + tx, M, K, transA) : T(0);
            Bs[ty][tx] = (k0 + ty < K && n < N) ? op_at(B, k0 + ty, n, K, N, transB) : T(0);
            __syncthreads();
            for (int k = 0; k < TILE; ++k)
                acc += As[ty][k] * Bs[k][tx];
            __syncthreads();
        }
        if (m < M && n < N) C[(long long)m * N + n] = acc;
    }
}

// ---- rung 3: coalesced staging for transposed operands ----------------------------------
// As rung 2, but each tile is copied in the order it lies in memory: neighbouring threads
// (tx) always read neighbouring addresses, so a warp's 32 loads are a few wide transactions
// whatever the operand's layout. For A stored (K, M) thread (ty, tx) reads A[k0+ty, m0+tx]
// and writes it to As[tx][ty] (transposing in shared memory); the same for B stored (N, K).
// The tiles get one padding column (TILE + 1) so that those column writes fall in different
// shared-memory banks instead of all in one.
template <typename T>
__global__ void gemm_coalesced(const T* __restrict__ A, const T* __restrict__ B,
                               T* __restrict__ C, int M, int N, int K, int transA,
                               int transB) {
    __shared__ T As[TILE][TILE + 1];     // As[i][kk] = op(A)[m0+i, k0+kk]
    __shared__ T Bs[TILE][TILE + 1];     // Bs[kk][j] = op(B)[k0+kk, n0+j]
    const int tx = threadIdx.x, ty = threadIdx.y;
    const int tilesM = (M + TILE - 1) / TILE, tilesN = (N + TILE - 1) / TILE;
    for (int tm = blockIdx.y; tm < tilesM; tm += gridDim.y)
    for (int tn = blockIdx.x; tn < tilesN; tn += gridDim.x) {
        const int m0 = tm * TILE, n0 = tn * TILE;
        T acc = 0;
        for (int k0 = 0; k0 < K; k0 += TILE) {
            if (transA)   // A is (K, M): along a row of A runs m
                As[tx][ty] = (k0 + ty < K && m0 + tx < M)
                    ? A[(long long)(k0 + ty) * M + m0 + tx] : T(0);
            else          // A is (M, K): along a row runs k
                As[ty][tx] = (m0 + ty < M && k0 + tx < K)
                    ? A[(long long)(m0 + ty) * K + k0 + tx] : T(0);
            if (transB)   // B is (N, K): along a row runs k
                Bs[tx][ty] = (n0 + ty < N && k0 + tx < K)
                    ? B[(long long)(n0 + ty) * K + k0 + tx] : T(0);
            else          // B is (K, N): along a row runs n
                Bs[ty][tx] = (k0 + ty < K && n0 + tx < N)
                    ? B[(long long)(k0 + ty) * N + n0 + tx] : T(0);
            __syncthreads();
            for (int k = 0; k < TILE; ++k)
                acc += As[ty][k] * Bs[k][tx];
            __syncthreads();
        }
        if (m0 + ty < M && n0 + tx < N) C[(long long)(m0 + ty) * N + n0 + tx] = acc;
    }
}

// ---- rung 4: register-blocked ----------------------------------------------------------
// Each thread computes RB x RB outputs instead of one: thread (ty, tx) of a TILE x TILE
// block owns C[m0 + ty + i*TILE, n0 + tx + j*TILE] for i, j < RB, so a block covers a
// (RB*TILE)² tile. Per step along K it reads RB values of op(A) and RB of op(B) from shared
// memory into registers and does RB² multiply-adds with them: RB² / 2RB times the work per
// shared-memory load of rungs 2–3, and each tile loaded from global memory is used RB*TILE
// times. Staging is coalesced as in rung 3: the block's TILE² threads copy the
// (RB*TILE) x TILE tiles, RB elements each, walking each operand in its memory order. The
// tiles are stored k-major (As[kk][i], Bs[kk][j]), padded by one against bank conflicts.
template <typename T>
__global__ void gemm_regblock(const T* __restrict__ A, const T* __restrict__ B,
                              T* __restrict__ C, int M, int N, int K, int transA,
                              int transB) {
    __shared__ T As[TILE][RB * TILE + 1];    // As[kk][i] = op(A)[m0+i, k0+kk]
    __shared__ T Bs[TILE][RB * TILE + 1];    // Bs[kk][j] = op(B)[k0+kk, n0+j]
    const int tx = threadIdx.x, ty = threadIdx.y, t = ty * TILE + tx;
    const int edge = RB * TILE, threads = TILE * TILE;
    const int tilesM = (M + edge - 1) / edge, tilesN = (N + edge - 1) / edge;
    for (int tm = blockIdx.y; tm < tilesM; tm += gridDim.y)
    for (int tn = blockIdx.x; tn < tilesN; tn += gridDim.x) {
        const int m0 = tm * edge, n0 = tn * edge;
        T acc[RB][RB];
        for (int i = 0; i < RB; ++i)
            for (int j = 0; j < RB; ++j) acc[i][j] = 0;
        for (int k0 = 0; k0 < K; k0 += TILE) {
            for (int r = 0; r < RB; ++r) {          // element e of each tile, in memory order
                const int e = r * threads + t;
                int i, kk;                          // op(A)[m0+i, k0+kk]
                if (transA) { i = e % edge; kk = e / edge; }      // A is (K, M)
                else        { kk = e % TILE; i = e / TILE; }      // A is (M, K)
                As[kk][i] = (m0 + i < M && k0 + kk < K)
                    ? op_at(A, m0 + i, k0 + kk, M, K, transA) : T(0);
                int j;                              // op(B)[k0+kk, n0+j]
                if (transB) { kk = e % TILE; j = e / TILE; }      // B is (N, K)
                else        { j = e % edge; kk = e / edge; }      // B is (K, N)
                Bs[kk][j] = (k0 + kk < K && n0 + j < N)
                    ? op_at(B, k0 + kk, n0 + j, K, N, transB) : T(0);
            }
            __syncthreads();
            for (int kk = 0; kk < TILE; ++kk) {
                T a[RB], b[RB];
                for (int i = 0; i < RB; ++i) a[i] = As[kk][ty + i * TILE];
                for (int j = 0; j < RB; ++j) b[j] = Bs[kk][tx + j * TILE];
                for (int i = 0; i < RB; ++i)
                    for (int j = 0; j < RB; ++j) acc[i][j] += a[i] * b[j];
            }
            __syncthreads();
        }
        for (int i = 0; i < RB; ++i)
            for (int j = 0; j < RB; ++j) {
                const int m = m0 + ty + i * TILE, n = n0 + tx + j * TILE;
                if (m < M && n < N) C[(long long)m * N + n] = acc[i][j];
            }
    }
}
