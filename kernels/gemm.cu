// Our own GEMM for linear and conv layers (cuBLAS is only a comparison in benchmarks: CuPy
// cannot capture it in a CUDA graph), the convolution's products built on it, and the
// reductions that go with them.
//
//   C = op(A) @ op(B)          (M x N) = (M x K) @ (K x N),  summed over batch items b
//
// ---- the tile engine (gemm_tiles) -------------------------------------------------------------
// A block owns a TM x TN tile of C: thread (ty, tx) computes element (m0 + ty, n0 + tx).
// The tile shape is the block's shape, chosen by the launcher from the product's shape
// (blockDim = (TN, TM), TM * TN = 256: 16 x 16, or 8 x 32 and 4 x 64 for a few rows, or
// 32 x 8 for a few columns), so a 6-row product does not leave most threads idle.
// For each step of GEMM_TK along K, the block stages op(A)[m0.., k0..] and op(B)[k0.., n0..]
// in shared memory — each element loaded by one thread, consecutive threads on consecutive
// addresses of the operand (a "loader" says which index runs along memory), so every load is
// coalesced, transposed operands included — then every thread takes its dot product from
// there. All loads are bounds-checked: any M, N, K works.
//
// Batch items: the sum also runs over items b (each its own A and B, e.g. one image each),
// cut into chunks of perBlock items: chunk z's sum goes to C's chunk z. perBlock = 1 is a
// batched GEMM; all items in chunks of a fixed size is split-K over the batch (a weight
// gradient Σ_n g[n] @ cols[n]ᵀ), whose partial results sum_partials adds up in a fixed
// order: no atomics, the same bits every run and on every GPU (the chunking and the tile
// shape depend on the sizes only; each output's sum runs over b, then k, in order).
// The grid may be smaller than the tile and chunk counts (gridDim.y and .z stop at 65,535,
// and the launcher caps them): each block loops over the tiles and chunks that are its own,
// striding by the grid; every loop bound is the same for the whole block, so all its threads
// meet at each __syncthreads().
//
// What A, B and C are is a loader's business: a dense matrix (optionally transposed), an
// image batch seen as im2col's columns without ever writing them (the convolution), a
// column of ones appended to B (so the same product also sums A's rows: a bias gradient).
#if !defined(GEMM_TK) || !defined(GEMM_TM_MAX) || !defined(GEMM_TN_MAX)
#error "compile with -DGEMM_TK, -DGEMM_TM_MAX and -DGEMM_TN_MAX (backend/cuda.py does)"
#endif

template <typename T, typename LoadA, typename LoadB, typename Store, typename SA, typename SB>
__device__ void gemm_tiles(const LoadA& A, const LoadB& B, const Store& C, SA& As, SB& Bs,
                           int M, int N, int K, int batch, int perBlock) {
    const int TN = blockDim.x, TM = blockDim.y;
    const int ty = threadIdx.y, tx = threadIdx.x;
    const int tid = ty * TN + tx, threads = TM * TN;
    const int tilesN = (N + TN - 1) / TN, tilesM = (M + TM - 1) / TM;
    const int chunks = (batch + perBlock - 1) / perBlock;
    for (int z = blockIdx.z; z < chunks; z += gridDim.z)
    for (int tm = blockIdx.y; tm < tilesM; tm += gridDim.y)
    for (int tn = blockIdx.x; tn < tilesN; tn += gridDim.x) {
        const int m0 = tm * TM, n0 = tn * TN;
        T acc = 0;
        const int bEnd = (int)min((long long)batch, (z + 1LL) * perBlock);
        for (int b = z * perBlock; b < bEnd; ++b) {
            for (int k0 = 0; k0 < K; k0 += GEMM_TK) {
                for (int e = tid; e < TM * GEMM_TK; e += threads) {     // op(A) tile: r=m, c=k
                    const bool along_c = A.cols_fastest;
                    const int r = along_c ? e / GEMM_TK : e % TM;
                    const int c = along_c ? e % GEMM_TK : e / TM;
                    const int m = m0 + r, k = k0 + c;
                    As[r][c] = (m < M && k < K) ? A(b, m, k) : T(0);
                }
                for (int e = tid; e < GEMM_TK * TN; e += threads) {     // op(B) tile: r=k, c=n
                    const bool along_c = B.cols_fastest;
                    const int r = along_c ? e / TN : e % GEMM_TK;
                    const int c = along_c ? e % TN : e / GEMM_TK;
                    const int k = k0 + r, n = n0 + c;
                    Bs[r][c] = (k < K && n < N) ? B(b, k, n) : T(0);
                }
                __syncthreads();
#pragma unroll
                for (int k = 0; k < GEMM_TK; ++k)
                    acc += As[ty][k] * Bs[k][tx];
                __syncthreads();
            }
        }
        const int m = m0 + ty, n = n0 + tx;
        if (m < M && n < N) C(z, m, n, acc);
    }
}

// ---- loaders: element (r, c) of an operand, for batch item b -----------------------------------
// A row-major matrix X (rows x cols), or X transposed (trans: X stored cols x rows), item b at
// X + b * stride (stride 0: one matrix for every item, as a conv's weight).
template <typename T>
struct Dense {
    const T* x;
    long long stride;
    int ld, trans;
    bool cols_fastest;
    __device__ Dense(const T* x_, long long stride_, int ld_, int trans_)
        : x(x_), stride(stride_), ld(ld_), trans(trans_), cols_fastest(!trans_) {}
    __device__ T operator()(int b, int r, int c) const {
        const T* xb = x + b * stride;
        return trans ? xb[(long long)c * ld + r] : xb[(long long)r * ld + c];
    }
};

// op(B) with one more column, index `ones`, of ones: then column `ones` of C is the sum of
// op(A)'s rows over k — a bias gradient, in the same launch as the weight gradient.
template <typename T, typename Inner>
struct WithOnes {
    Inner inner;
    int ones;
    bool cols_fastest;
    __device__ WithOnes(const Inner& in, int ones_) : inner(in), ones(ones_),
                                                      cols_fastest(in.cols_fastest) {}
    __device__ T operator()(int b, int r, int c) const {
        return c == ones ? T(1) : inner(b, r, c);
    }
};

// A convolution's geometry: x (N, C, H, W), windows KH x KW, stride S, zero padding PAD,
// output OH x OW = P pixels per image and channel.
struct ConvShape {
    int N, C, H, W, KH, KW, S, PAD, OH, OW;
};

// im2col's columns, never written: cols[n][(c, i, j)][(oh, ow)] = xpad[n, c, oh*S+i, ow*S+j]
// (0 in the padding), read straight from x.
template <typename T>
__device__ __forceinline__ T im2col_at(const T* x, const ConvShape& s, int n, int row, int p) {
    const int kk = s.KH * s.KW;
    const int c = row / kk, ij = row - c * kk;
    const int i = ij / s.KW, j = ij - i * s.KW;
    const int oh = p / s.OW, ow = p - oh * s.OW;
    const int y = oh * s.S + i - s.PAD, xx = ow * s.S + j - s.PAD;
    if (y < 0 || y >= s.H || xx < 0 || xx >= s.W) return T(0);
    return x[(((long long)n * s.C + c) * s.H + y) * s.W + xx];
}

// The whole batch's columns side by side: (C·KH·KW) x (N·P), column n·P + p.
template <typename T>
struct BatchColumns {
    const T* x;
    ConvShape s;
    bool cols_fastest;
    __device__ BatchColumns(const T* x_, const ConvShape& s_) : x(x_), s(s_), cols_fastest(true) {}
    __device__ T operator()(int, int r, int c) const {
        const int P = s.OH * s.OW, n = c / P;
        return im2col_at(x, s, n, r, c - n * P);
    }
};

// Image b's columns transposed: (P) x (C·KH·KW), element (p, row) = cols[b][row][p].
template <typename T>
struct ImageColumnsT {
    const T* x;
    ConvShape s;
    bool cols_fastest;
    __device__ ImageColumnsT(const T* x_, const ConvShape& s_) : x(x_), s(s_), cols_fastest(false) {}
    __device__ T operator()(int b, int r, int c) const { return im2col_at(x, s, b, c, r); }
};

// A gradient g (N, M, P) seen as M x (N·P): column n·P + p of row m is g[n, m, p].
template <typename T>
struct BatchMatrix {
    const T* g;
    int M, P;
    bool cols_fastest;
    __device__ BatchMatrix(const T* g_, int M_, int P_) : g(g_), M(M_), P(P_), cols_fastest(true) {}
    __device__ T operator()(int, int r, int c) const {
        const int n = c / P;
        return g[((long long)n * M + r) * P + (c - n * P)];
    }
};

// ---- stores: where element (m, n) of chunk z's result goes -------------------------------------
// Row-major (M, N) per chunk, plus a bias per row (biasMode 1) or per column (biasMode 2);
// with `ones` (a WithOnes product of N + 1 columns) chunk z holds its M x N result and then
// the M values of the ones column, back to back: (M·N + M) per chunk.
template <typename T>
struct DenseStore {
    T* c;
    const T* bias;
    int M, N, biasMode, ones;
    __device__ DenseStore(T* c_, const T* bias_, int M_, int N_, int biasMode_, int ones_)
        : c(c_), bias(bias_), M(M_), N(N_), biasMode(biasMode_), ones(ones_) {}
    __device__ void operator()(int z, int m, int n, T v) const {
        T* cz = c + (long long)z * ((long long)M * N + (ones ? M : 0));
        if (ones && n == N) { cz[(long long)M * N + m] = v; return; }
        if (biasMode == 1) v += bias[m];              // one bias per row: conv channels
        else if (biasMode == 2) v += bias[n];         // one bias per column: linear features
        cz[(long long)m * N + n] = v;
    }
};

// Column n·P + p of row m goes to y[n, m, p] (+ bias[m]): the (N, M, P) layout of a conv's
// output, or of the columns col2im takes.
template <typename T>
struct BatchStore {
    T* y;
    const T* bias;
    int M, P;
    __device__ BatchStore(T* y_, const T* bias_, int M_, int P_) : y(y_), bias(bias_), M(M_), P(P_) {}
    __device__ void operator()(int, int m, int c, T v) const {
        const int n = c / P;
        if (bias) v += bias[m];
        y[((long long)n * M + m) * P + (c - n * P)] = v;
    }
};

// ---- the kernels -------------------------------------------------------------------------------
// The dense GEMM behind `gemm` and `gemm_batch_sum`: op(A) of item b at A + b*strideA (stored
// M x K, or K x M with transA), op(B) likewise (K x N, or N x K with transB).
template <typename T>
__global__ void gemm(const T* __restrict__ A, const T* __restrict__ B, T* __restrict__ C,
                     const T* __restrict__ bias, int M, int N, int K, int transA, int transB,
                     long long strideA, long long strideB, int batch, int perBlock,
                     int biasMode, int ones) {
    __shared__ T As[GEMM_TM_MAX][GEMM_TK + 1];
    __shared__ T Bs[GEMM_TK][GEMM_TN_MAX + 1];
    const Dense<T> a(A, strideA, transA ? M : K, transA);
    const Dense<T> b(B, strideB, transB ? K : N, transB);
    const DenseStore<T> c(C, bias, M, N, biasMode, ones);
    if (ones)
        gemm_tiles<T>(a, WithOnes<T, Dense<T>>(b, N), c, As, Bs, M, N + 1, K, batch, perBlock);
    else
        gemm_tiles<T>(a, b, c, As, Bs, M, N, K, batch, perBlock);
}

// A convolution's forward over the whole batch in one product, im2col never written:
//   y (N, OC, P) = W (OC, C·KH·KW) @ cols (C·KH·KW, N·P) + bias
template <typename T>
__global__ void conv_fwd(const T* __restrict__ x, const T* __restrict__ w,
                         const T* __restrict__ bias, T* __restrict__ y, int N, int C, int H,
                         int W, int OC, int KH, int KW, int S, int PAD, int OH, int OW) {
    __shared__ T As[GEMM_TM_MAX][GEMM_TK + 1];
    __shared__ T Bs[GEMM_TK][GEMM_TN_MAX + 1];
    const ConvShape s{N, C, H, W, KH, KW, S, PAD, OH, OW};
    const int K = C * KH * KW, P = OH * OW;
    gemm_tiles<T>(Dense<T>(w, 0, K, 0), BatchColumns<T>(x, s), BatchStore<T>(y, bias, OC, P),
                  As, Bs, OC, N * P, K, 1, 1);
}

// A convolution's weight and bias gradients as split-K over the batch, im2col never
// written: chunk z (images z·perBlock ...) sums g[n] (OC, P) @ cols[n]ᵀ (P, C·KH·KW) and,
// through a column of ones, g[n]'s rows (the bias gradient): partial (chunks, OC·CKK + OC).
template <typename T>
__global__ void conv_wgrad(const T* __restrict__ g, const T* __restrict__ x,
                           T* __restrict__ partial, int N, int C, int H, int W, int OC, int KH,
                           int KW, int S, int PAD, int OH, int OW, int perBlock, int withBias) {
    __shared__ T As[GEMM_TM_MAX][GEMM_TK + 1];
    __shared__ T Bs[GEMM_TK][GEMM_TN_MAX + 1];
    const ConvShape s{N, C, H, W, KH, KW, S, PAD, OH, OW};
    const int K = C * KH * KW, P = OH * OW;
    const Dense<T> a(g, (long long)OC * P, P, 0);
    const ImageColumnsT<T> b(x, s);
    const DenseStore<T> c(partial, nullptr, OC, K, 0, withBias);
    if (withBias)
        gemm_tiles<T>(a, WithOnes<T, ImageColumnsT<T>>(b, K), c, As, Bs, OC, K + 1, P, N,
                      perBlock);
    else
        gemm_tiles<T>(a, b, c, As, Bs, OC, K, P, N, perBlock);
}

// The columns col2im turns into the input's gradient, over the whole batch in one product:
//   dcols (N, C·KH·KW, P) = Wᵀ (C·KH·KW, OC) @ g (OC, N·P)
template <typename T>
__global__ void conv_dcols(const T* __restrict__ w, const T* __restrict__ g,
                           T* __restrict__ dcols, int N, int OC, int K, int P) {
    __shared__ T As[GEMM_TM_MAX][GEMM_TK + 1];
    __shared__ T Bs[GEMM_TK][GEMM_TN_MAX + 1];
    gemm_tiles<T>(Dense<T>(w, 0, K, 1), BatchMatrix<T>(g, OC, P),
                  BatchStore<T>(dcols, nullptr, K, P), As, Bs, K, N * P, OC, 1, 1);
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
// power of two ≤ 1024 (the launcher uses 256). (The layers' bias gradients come from their
// weight gradients' products instead, through a column of ones: see conv_wgrad.)
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
