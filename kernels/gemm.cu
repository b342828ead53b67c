// Our own GEMM for linear and conv layers (cuBLAS is only a comparison in benchmarks: CuPy
// cannot capture it in a CUDA graph), the convolution's products built on it, and the
// reductions that go with them.
//
//   C = op(A) @ op(B)          (M x N) = (M x K) @ (K x N),  summed over batch items b
//
// ---- the tile engine (gemm_tiles) -------------------------------------------------------------
// A block of NT = (TM/RM)·(TN/RN) = 256 threads owns a TM x TN tile of C; thread (ty, tx)
// computes the RM x RN outputs (m0 + ty + i·TM/RM, n0 + tx + j·TN/RN), i < RM, j < RN (one
// output when RM = RN = 1; strided, so neighbouring threads still write neighbouring
// addresses). The tile (TM, TN, RM, RN) is one of runtime.py's GEMM_TILES, compile-time in
// each instance (-D GEMM_TILE0_TM ... GEMM_TILE5_RN); the launcher picks it from the product's
// shape and passes its index, `tile`. For each step of GEMM_TK along K, the block stages
// op(A)[m0.., k0..] and op(B)[k0.., n0..] in shared memory — each element copied by one
// thread, consecutive threads on consecutive addresses of the operand, so every load is
// coalesced, transposed operands included (a Stager, below, says who copies what) — then
// every thread takes its RM·RN dot products from there, RM + RN shared reads feeding RM·RN
// multiply-adds. All loads are bounds-checked: any M, N, K works.
//
// The sum runs over k in [0, K) and over items b (each its own A and B, e.g. one image
// each), cut into chunks z: chunk z's sum goes to C's chunk z. Two ways to cut:
//   * items in chunks of perBlock (perBlock = 1: a batched GEMM; a fixed chunk of a few
//     items: split-K over the batch, as gemm_batch_sum does);
//   * K in splits of kSplit (a multiple of GEMM_TK): split-K over a flat reduction, as a
//     conv's weight gradient over N·OH·OW (batch × pixels) does.
// Partial results are then added up in a fixed order (sum_partials): no atomics, the same bits
// every run and on every GPU — the chunking and the tile depend on the sizes only, and each
// output's sum runs over b, then k, in order, whatever the tile.
// The grid may be smaller than the tile and chunk counts (gridDim.y and .z stop at 65,535,
// and the launcher caps them): each block loops over the tiles and chunks that are its own,
// striding by the grid; every loop bound is the same for the whole block, so all its threads
// meet at each __syncthreads().
//
// What A, B and C are is a loader's business: a dense matrix (optionally transposed), an
// image batch seen as im2col's columns without ever writing them (the convolution), a
// column of ones appended to B (so the same product also sums A's rows: a bias gradient).
// A loader splits an element's address into a part that depends only on the index across K
// (m of A, n of B: the "outer" part, computed once per output tile) and a cursor along K
// (computed once per chunk, then stepped by GEMM_TK per K-tile by additions with a carry:
// no division in the K loop).
#if !defined(GEMM_TK) || !defined(GEMM_TM_MAX) || !defined(GEMM_TN_MAX) || \
    !defined(GEMM_TILE5_RN) || !defined(REDUCE_LANES)
#error "compile with the -D defines of backend/cuda/runtime.py (GEMM_TK, GEMM_TILE0_TM, ...)"
#endif
#if GEMM_TILE_COUNT != 6
#error "gemm_any_tile lists 6 tiles: runtime.py's GEMM_TILES has another count"
#endif

// ---- who stages what --------------------------------------------------------------------------
// One operand's TO x GEMM_TK tile (TO outer indices: m for A, n for B), copied by NT threads.
// Consecutive threads take consecutive addresses: along k when the loader's k_fast, else along
// the outer index. So each thread keeps ONE index for the whole product:
//   k_fast:  its k offset  f = tid % GEMM_TK, and the outer indices tid / GEMM_TK + j·NT / GEMM_TK
//   else:    its outer index f = tid % TO,    and the k offsets  tid / TO + j·NT / TO
// for its E elements j. It keeps one cursor along K (at its first element's k), stepped by
// GEMM_TK per K-tile; k_fast: one outer part per element (once per output tile); else one outer
// part, and element j's cursor is element j−1's stepped by NT / TO (no division either way).
template <typename T, int TO, int NT, bool IS_A, typename L>
struct Stager {
    static constexpr int E = (TO * GEMM_TK + NT - 1) / NT;    // elements per thread
    const L& ld;
    const bool kFast;
    int oOff[E], kOff[E];                   // element j's place in the tile
    bool inTile[E], live[E];                // in the tile at all; inside the operand's rows
    typename L::OPart op[E];                // k_fast: each element's; else op[0] only
    typename L::KPart kp;                   // the cursor of element 0
    typename L::Step tileStep, elemStep;    // GEMM_TK along k; NT / TO along k (not k_fast)

    __device__ Stager(const L& l, int tid)
        : ld(l), kFast(l.k_fast), tileStep(l.step(GEMM_TK)),
          elemStep(l.step(l.k_fast ? 0 : NT / TO)) {
        const int f = kFast ? tid % GEMM_TK : tid % TO;
        const int s = kFast ? tid / GEMM_TK : tid / TO, step = kFast ? NT / GEMM_TK : NT / TO;
#pragma unroll
        for (int j = 0; j < E; ++j) {
            oOff[j] = kFast ? s + j * step : f;
            kOff[j] = kFast ? f : s + j * step;
            inTile[j] = oOff[j] < TO && kOff[j] < GEMM_TK;   // TO·GEMM_TK < NT: some idle
        }
    }
    // Once per output tile: the outer parts of the thread's elements (o0: the tile's first).
    __device__ void tile(int o0, int O) {
#pragma unroll
        for (int j = 0; j < E; ++j) {
            live[j] = inTile[j] && o0 + oOff[j] < O;
            if (j == 0 || kFast) op[j] = ld.opart(o0 + oOff[j]);
        }
    }
    // Once per item and chunk: the cursor at k (the chunk's first k).
    __device__ void start(int b, int k) { kp = ld.kpart(b, k + kOff[0]); }
    // One K-tile (k0 .. k0 + GEMM_TK, zeros at and past kEnd) into shared memory, then the
    // cursor one step on. (Two loops, not a select of op[0] or op[j]: a select of array
    // elements can become a load through a selected address, which puts the arrays in local
    // memory.)
    template <typename S>
    __device__ void stage(S& sh, int k0, int kEnd) {
        if (kFast) {
#pragma unroll
            for (int j = 0; j < E; ++j)
                put(sh, j, live[j] && k0 + kOff[j] < kEnd ? ld.at(kp, op[j]) : T(0));
        } else {
            typename L::KPart at = kp;
#pragma unroll
            for (int j = 0; j < E; ++j) {
                put(sh, j, live[j] && k0 + kOff[j] < kEnd ? ld.at(at, op[0]) : T(0));
                if (j + 1 < E) ld.advance(at, elemStep);
            }
        }
        ld.advance(kp, tileStep);
    }
    template <typename S>
    __device__ void put(S& sh, int j, T v) const {
        if (!inTile[j]) return;
        if (IS_A) sh[oOff[j]][kOff[j]] = v;
        else      sh[kOff[j]][oOff[j]] = v;
    }
};

template <typename T, int TM, int TN, int RM, int RN, typename LoadA, typename LoadB,
          typename Store, typename SA, typename SB>
__device__ void gemm_tiles(const LoadA& A, const LoadB& B, const Store& C, SA& As, SB& Bs,
                           int M, int N, int K, int batch, int perBlock, int kSplit) {
    constexpr int BM = TM / RM, BN = TN / RN, NT = BM * BN;     // blockDim = (BN, BM)
    static_assert(TM <= GEMM_TM_MAX && TN <= GEMM_TN_MAX, "tile larger than the shared arrays");
    const int ty = threadIdx.y, tx = threadIdx.x, tid = ty * BN + tx;
    Stager<T, TM, NT, true, LoadA> sa(A, tid);
    Stager<T, TN, NT, false, LoadB> sb(B, tid);
    const int tilesN = (N + TN - 1) / TN, tilesM = (M + TM - 1) / TM;
    const int splits = K > kSplit ? (K + kSplit - 1) / kSplit : 1;
    // (the launchers cut items or K, never both, so this product stays small)
    const int chunks = (batch + perBlock - 1) / perBlock * splits;
    for (int z = blockIdx.z; z < chunks; z += gridDim.z) {
        const int zItems = z / splits, zK = z - zItems * splits;
        const int kBegin = splits == 1 ? 0 : zK * kSplit;
        const int kEnd = K - kBegin > kSplit && splits > 1 ? kBegin + kSplit : K;
        const int bEnd = (int)min((long long)batch, (zItems + 1LL) * perBlock);
        for (int tm = blockIdx.y; tm < tilesM; tm += gridDim.y)
        for (int tn = blockIdx.x; tn < tilesN; tn += gridDim.x) {
            const int m0 = tm * TM, n0 = tn * TN;
            sa.tile(m0, M);
            sb.tile(n0, N);
            T acc[RM][RN];
#pragma unroll
            for (int i = 0; i < RM; ++i)
#pragma unroll
                for (int j = 0; j < RN; ++j) acc[i][j] = T(0);
            for (int b = zItems * perBlock; b < bEnd; ++b) {
                sa.start(b, kBegin);
                sb.start(b, kBegin);
                for (int k0 = kBegin; k0 < kEnd; k0 += GEMM_TK) {
                    sa.stage(As, k0, kEnd);
                    sb.stage(Bs, k0, kEnd);
                    __syncthreads();
#pragma unroll
                    for (int k = 0; k < GEMM_TK; ++k) {
                        T a[RM], bv[RN];
#pragma unroll
                        for (int i = 0; i < RM; ++i) a[i] = As[ty + i * BM][k];
#pragma unroll
                        for (int j = 0; j < RN; ++j) bv[j] = Bs[k][tx + j * BN];
#pragma unroll
                        for (int i = 0; i < RM; ++i)
#pragma unroll
                            for (int j = 0; j < RN; ++j) acc[i][j] += a[i] * bv[j];
                    }
                    __syncthreads();
                }
            }
#pragma unroll
            for (int i = 0; i < RM; ++i)
#pragma unroll
                for (int j = 0; j < RN; ++j) {
                    const int m = m0 + ty + i * BM, n = n0 + tx + j * BN;
                    if (m < M && n < N) C(z, m, n, acc[i][j]);
                }
        }
    }
}

// The kernels' one entry to the engine: the tile `tile` of GEMM_TILES, each an instance. A
// kernel compiles either the one-output tiles (BLOCKED false) or the register-blocked ones
// (true), never both: the others' branches are dead code, so a kernel's register count (the
// most any of its branches needs, fixed for the whole kernel) is not the largest tile's.
#define GEMM_TILE(i) GEMM_TILE##i##_TM, GEMM_TILE##i##_TN, GEMM_TILE##i##_RM, GEMM_TILE##i##_RN
#define GEMM_TILE_BLOCKED(i) (GEMM_TILE##i##_RM * GEMM_TILE##i##_RN > 1)
#define GEMM_CASE(i)                                                                         \
    case i:                                                                                  \
        if (GEMM_TILE_BLOCKED(i) == BLOCKED)                                                 \
            gemm_tiles<T, GEMM_TILE(i)>(A, B, C, As, Bs, M, N, K, batch, perBlock, kSplit);  \
        break;
template <typename T, bool BLOCKED, typename LoadA, typename LoadB, typename Store, typename SA,
          typename SB>
__device__ void gemm_any_tile(int tile, const LoadA& A, const LoadB& B, const Store& C, SA& As,
                              SB& Bs, int M, int N, int K, int batch, int perBlock, int kSplit) {
    switch (tile) {
        GEMM_CASE(0) GEMM_CASE(1) GEMM_CASE(2) GEMM_CASE(3) GEMM_CASE(4) GEMM_CASE(5)
    }
}

// ---- loaders: element (o, k) of an operand for item b, as an outer part and a cursor ----------
// Each loader has: k_fast (do consecutive k lie at consecutive addresses?), OPart opart(o),
// KPart kpart(b, k), Step step(dk) (a distance along k, split once into what advance needs),
// advance(KPart&, Step) (the cursor that much further along k: additions and carries) and
// at(KPart, OPart) (the element; called only for o and k inside the operand).

// A position in a mixed radix (hi, mid, lo), mid < R1 and lo < R2: a pixel (n, oh, ow) of a
// batch of OH x OW images, or a window entry (c, i, j) of C channels of KH x KW windows.
// Stepping by a fixed amount (split once into digits) takes additions and one carry per digit.
struct Digits {
    int hi, mid, lo;
};
__device__ __forceinline__ Digits split_digits(int v, int R1, int R2) {
    const int hi = v / (R1 * R2), rest = v - hi * (R1 * R2);
    return Digits{hi, rest / R2, rest - rest / R2 * R2};
}
__device__ __forceinline__ void add_digits(Digits& d, const Digits& step, int R1, int R2) {
    d.lo += step.lo;
    const int c1 = d.lo >= R2;
    d.lo -= c1 * R2;
    d.mid += step.mid + c1;
    const int c2 = d.mid >= R1;
    d.mid -= c2 * R1;
    d.hi += step.hi + c2;
}

// A row-major matrix, element (o, k) at x[b·stride + o·so + k·sk] (stride 0: one matrix for
// every item, as a conv's weight). op(A) (M x K) stored M x K: so = K, sk = 1; stored K x M
// (transposed): so = 1, sk = M. op(B) (K x N) stored K x N: so = 1, sk = N; stored N x K: so = K,
// sk = 1.
template <typename T>
struct Dense {
    typedef long long OPart;
    typedef long long KPart;
    typedef long long Step;
    const T* x;
    long long stride;
    int so, sk;
    bool k_fast;
    __device__ Dense(const T* x_, long long stride_, int so_, int sk_)
        : x(x_), stride(stride_), so(so_), sk(sk_), k_fast(sk_ == 1) {}
    __device__ OPart opart(int o) const { return (long long)o * so; }
    __device__ KPart kpart(int b, int k) const { return b * stride + (long long)k * sk; }
    __device__ Step step(int dk) const { return (long long)dk * sk; }
    __device__ void advance(KPart& p, Step d) const { p += d; }
    __device__ T at(KPart p, OPart o) const { return x[p + o]; }
};

// op(B) with one more column, outer index `ones` (-1: none), of ones: then column `ones` of C is
// the sum of op(A)'s rows over k — a bias gradient, in the same launch as the weight gradient.
template <typename T, typename Inner>
struct WithOnes {
    struct OPart {
        typename Inner::OPart inner;
        bool one;
    };
    typedef typename Inner::KPart KPart;
    typedef typename Inner::Step Step;
    Inner in;
    int ones;
    bool k_fast;
    __device__ WithOnes(const Inner& in_, int ones_) : in(in_), ones(ones_), k_fast(in_.k_fast) {}
    __device__ OPart opart(int o) const { return OPart{in.opart(o), o == ones}; }
    __device__ KPart kpart(int b, int k) const { return in.kpart(b, k); }
    __device__ Step step(int dk) const { return in.step(dk); }
    __device__ void advance(KPart& p, const Step& d) const { in.advance(p, d); }
    __device__ T at(const KPart& p, const OPart& o) const {
        return o.one ? T(1) : in.at(p, o.inner);
    }
};

// A convolution's geometry: x (N, C, H, W), windows KH x KW, stride S, zero padding PAD,
// output OH x OW = P pixels per image and channel.
struct ConvShape {
    int N, C, H, W, KH, KW, S, PAD, OH, OW;
};

// im2col's columns, never written: element [(c, i, j), (n, oh, ow)] = xpad[n, c, oh·S+i, ow·S+j]
// (0 in the padding), read straight from x. Its address splits into a pixel's part and a window
// entry's part: x[base(n, oh, ow) + off(c, i, j)] with
//   base = (n·C·H + oh·S − PAD)·W + ow·S − PAD,   off = (c·H + i)·W + j,
// inside the image when 0 ≤ oh·S − PAD + i < H and 0 ≤ ow·S − PAD + j < W.
struct Pixel {
    Digits d;                 // (n, oh, ow)
    long long base;
    int y0, x0;               // the window's top-left corner in x: oh·S − PAD, ow·S − PAD
};
struct WindowEntry {
    Digits d;                 // (c, i, j)
    int off;
};
__device__ __forceinline__ Pixel make_pixel(const ConvShape& s, const Digits& d) {
    const int y0 = d.mid * s.S - s.PAD, x0 = d.lo * s.S - s.PAD;
    return Pixel{d, ((long long)d.hi * s.C * s.H + y0) * s.W + x0, y0, x0};
}
__device__ __forceinline__ WindowEntry make_entry(const ConvShape& s, const Digits& d) {
    return WindowEntry{d, (d.hi * s.H + d.mid) * s.W + d.lo};
}
template <typename T>
__device__ __forceinline__ T im2col_at(const T* x, const ConvShape& s, const Pixel& p,
                                       const WindowEntry& w) {
    const int y = p.y0 + w.d.mid, xx = p.x0 + w.d.lo;
    if (y < 0 || y >= s.H || xx < 0 || xx >= s.W) return T(0);
    return x[p.base + w.off];
}

// conv_fwd's op(B): the whole batch's columns side by side, (C·KH·KW) x (N·P); k = (c, i, j)
// walks the window, the outer index n·P + oh·OW + ow the pixels (consecutive threads on
// consecutive pixels: consecutive addresses when S = 1).
template <typename T>
struct BatchColumns {
    typedef Pixel OPart;
    typedef WindowEntry KPart;
    typedef Digits Step;                           // a distance as (c, i, j)
    static constexpr bool k_fast = false;
    const T* x;
    ConvShape s;
    __device__ BatchColumns(const T* x_, const ConvShape& s_) : x(x_), s(s_) {}
    __device__ OPart opart(int o) const { return make_pixel(s, split_digits(o, s.OH, s.OW)); }
    __device__ KPart kpart(int, int k) const { return make_entry(s, split_digits(k, s.KH, s.KW)); }
    __device__ Step step(int dk) const { return split_digits(dk, s.KH, s.KW); }
    __device__ void advance(KPart& e, const Step& d) const {
        add_digits(e.d, d, s.KH, s.KW);
        e = make_entry(s, e.d);
    }
    __device__ T at(const KPart& e, const OPart& p) const { return im2col_at(x, s, p, e); }
};

// conv_wgrad's op(B): the same columns transposed, (N·P) x (C·KH·KW): k = n·P + oh·OW + ow
// walks the pixels of the whole batch (consecutive threads on consecutive pixels), the outer
// index the window entries.
template <typename T>
struct BatchColumnsT {
    typedef WindowEntry OPart;
    typedef Pixel KPart;
    typedef Digits Step;                           // a distance as (n, oh, ow)
    static constexpr bool k_fast = true;
    const T* x;
    ConvShape s;
    __device__ BatchColumnsT(const T* x_, const ConvShape& s_) : x(x_), s(s_) {}
    __device__ OPart opart(int o) const { return make_entry(s, split_digits(o, s.KH, s.KW)); }
    __device__ KPart kpart(int, int k) const { return make_pixel(s, split_digits(k, s.OH, s.OW)); }
    __device__ Step step(int dk) const { return split_digits(dk, s.OH, s.OW); }
    __device__ void advance(KPart& p, const Step& d) const {
        add_digits(p.d, d, s.OH, s.OW);
        p = make_pixel(s, p.d);
    }
    __device__ T at(const KPart& p, const OPart& e) const { return im2col_at(x, s, p, e); }
};

// A gradient g (N, M, P) seen as M x (N·P): element [m, n·P + p] = g[n·M·P + p + m·P], the
// pixel (n, p) kept as digits (n, p / OW, p % OW) and its part of the address, n·M·P + p.
struct GradPixel {
    Digits d;
    long long off;
};
__device__ __forceinline__ GradPixel grad_pixel(const Digits& d, int M, int OH, int OW) {
    return GradPixel{d, ((long long)d.hi * M * OH + d.mid) * OW + d.lo};
}

// conv_wgrad's op(A): outer m, k the pixel n·P + p (consecutive threads on consecutive pixels).
template <typename T>
struct GradByPixel {
    typedef long long OPart;
    typedef GradPixel KPart;
    typedef Digits Step;                           // a distance as (n, p / OW, p % OW)
    static constexpr bool k_fast = true;
    const T* g;
    int M, OH, OW;
    __device__ GradByPixel(const T* g_, int M_, int OH_, int OW_)
        : g(g_), M(M_), OH(OH_), OW(OW_) {}
    __device__ OPart opart(int m) const { return (long long)m * OH * OW; }
    __device__ KPart kpart(int, int k) const {
        return grad_pixel(split_digits(k, OH, OW), M, OH, OW);
    }
    __device__ Step step(int dk) const { return split_digits(dk, OH, OW); }
    __device__ void advance(KPart& p, const Step& d) const {
        add_digits(p.d, d, OH, OW);
        p = grad_pixel(p.d, M, OH, OW);
    }
    __device__ T at(const KPart& p, OPart row) const { return g[p.off + row]; }
};

// conv_dcols's op(B): k = m (the output channel), outer the pixel n·P + p.
template <typename T>
struct GradByChannel {
    typedef GradPixel OPart;
    typedef long long KPart;
    typedef long long Step;
    static constexpr bool k_fast = false;
    const T* g;
    int M, OH, OW;
    __device__ GradByChannel(const T* g_, int M_, int OH_, int OW_)
        : g(g_), M(M_), OH(OH_), OW(OW_) {}
    __device__ OPart opart(int o) const { return grad_pixel(split_digits(o, OH, OW), M, OH, OW); }
    __device__ KPart kpart(int, int m) const { return (long long)m * OH * OW; }
    __device__ Step step(int dk) const { return (long long)dk * OH * OW; }
    __device__ void advance(KPart& row, Step d) const { row += d; }
    __device__ T at(KPart row, const OPart& p) const { return g[p.off + row]; }
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
// Each takes `tile`, the index of its tile in GEMM_TILES; its block is (TN/RN, TM/RM). gemm,
// conv_fwd and conv_dcols come twice: for the one-output tiles, and as *_blocked for the
// register-blocked ones (conv_wgrad's output is too small for those).

// The dense GEMM behind `gemm` and `gemm_batch_sum`: op(A) of item b at A + b*strideA (stored
// M x K, or K x M with transA), op(B) likewise (K x N, or N x K with transB).
template <typename T, bool BLOCKED, typename SA, typename SB>
__device__ void gemm_body(const T* A, const T* B, T* C, const T* bias, int M, int N, int K,
                          int transA, int transB, long long strideA, long long strideB,
                          int batch, int perBlock, int biasMode, int ones, int tile, SA& As,
                          SB& Bs) {
    const Dense<T> a(A, strideA, transA ? 1 : K, transA ? M : 1);
    const Dense<T> b(B, strideB, transB ? K : 1, transB ? 1 : N);
    const DenseStore<T> c(C, bias, M, N, biasMode, ones);
    gemm_any_tile<T, BLOCKED>(tile, a, WithOnes<T, Dense<T>>(b, ones ? N : -1), c, As, Bs, M,
                              N + ones, K, batch, perBlock, K);
}
template <typename T>
__global__ void gemm(const T* __restrict__ A, const T* __restrict__ B, T* __restrict__ C,
                     const T* __restrict__ bias, int M, int N, int K, int transA, int transB,
                     long long strideA, long long strideB, int batch, int perBlock,
                     int biasMode, int ones, int tile) {
    __shared__ T As[GEMM_TM_MAX][GEMM_TK + 1];
    __shared__ T Bs[GEMM_TK][GEMM_TN_MAX + 1];
    gemm_body<T, false>(A, B, C, bias, M, N, K, transA, transB, strideA, strideB, batch,
                        perBlock, biasMode, ones, tile, As, Bs);
}
template <typename T>
__global__ void gemm_blocked(const T* __restrict__ A, const T* __restrict__ B,
                             T* __restrict__ C, const T* __restrict__ bias, int M, int N,
                             int K, int transA, int transB, long long strideA,
                             long long strideB, int batch, int perBlock, int biasMode,
                             int ones, int tile) {
    __shared__ T As[GEMM_TM_MAX][GEMM_TK + 1];
    __shared__ T Bs[GEMM_TK][GEMM_TN_MAX + 1];
    gemm_body<T, true>(A, B, C, bias, M, N, K, transA, transB, strideA, strideB, batch,
                       perBlock, biasMode, ones, tile, As, Bs);
}

// A convolution's forward over the whole batch in one product, im2col never written:
//   y (N, OC, P) = W (OC, C·KH·KW) @ cols (C·KH·KW, N·P) + bias
template <typename T, bool BLOCKED, typename SA, typename SB>
__device__ void conv_fwd_body(const T* x, const T* w, const T* bias, T* y, const ConvShape& s,
                              int OC, int tile, SA& As, SB& Bs) {
    const int K = s.C * s.KH * s.KW, P = s.OH * s.OW;
    gemm_any_tile<T, BLOCKED>(tile, Dense<T>(w, 0, K, 1), BatchColumns<T>(x, s),
                              BatchStore<T>(y, bias, OC, P), As, Bs, OC, s.N * P, K, 1, 1, K);
}
template <typename T>
__global__ void conv_fwd(const T* __restrict__ x, const T* __restrict__ w,
                         const T* __restrict__ bias, T* __restrict__ y, int N, int C, int H,
                         int W, int OC, int KH, int KW, int S, int PAD, int OH, int OW,
                         int tile) {
    __shared__ T As[GEMM_TM_MAX][GEMM_TK + 1];
    __shared__ T Bs[GEMM_TK][GEMM_TN_MAX + 1];
    conv_fwd_body<T, false>(x, w, bias, y, ConvShape{N, C, H, W, KH, KW, S, PAD, OH, OW}, OC,
                            tile, As, Bs);
}
template <typename T>
__global__ void conv_fwd_blocked(const T* __restrict__ x, const T* __restrict__ w,
                                 const T* __restrict__ bias, T* __restrict__ y, int N, int C,
                                 int H, int W, int OC, int KH, int KW, int S, int PAD, int OH,
                                 int OW, int tile) {
    __shared__ T As[GEMM_TM_MAX][GEMM_TK + 1];
    __shared__ T Bs[GEMM_TK][GEMM_TN_MAX + 1];
    conv_fwd_body<T, true>(x, w, bias, y, ConvShape{N, C, H, W, KH, KW, S, PAD, OH, OW}, OC,
                           tile, As, Bs);
}

// A convolution's weight and bias gradients as split-K over the batch's pixels, im2col never
// written: split z (k = n·P + p in [z·kSplit, (z+1)·kSplit)) sums g[n][:, p] ⊗ cols[n][:, p]
// over its k, and, through a column of ones, g's entries (the bias gradient):
//   partial (splits, OC·CKK + OC)   (OC·CKK without the bias)
template <typename T>
__global__ void conv_wgrad(const T* __restrict__ g, const T* __restrict__ x,
                           T* __restrict__ partial, int N, int C, int H, int W, int OC, int KH,
                           int KW, int S, int PAD, int OH, int OW, int kSplit, int withBias,
                           int tile) {
    __shared__ T As[GEMM_TM_MAX][GEMM_TK + 1];
    __shared__ T Bs[GEMM_TK][GEMM_TN_MAX + 1];
    const ConvShape s{N, C, H, W, KH, KW, S, PAD, OH, OW};
    const int K = C * KH * KW;
    const GradByPixel<T> a(g, OC, OH, OW);
    const WithOnes<T, BatchColumnsT<T>> b(BatchColumnsT<T>(x, s), withBias ? K : -1);
    const DenseStore<T> c(partial, nullptr, OC, K, 0, withBias);
    gemm_any_tile<T, false>(tile, a, b, c, As, Bs, OC, K + withBias, N * OH * OW, 1, 1, kSplit);
}

// The columns col2im turns into the input's gradient, over the whole batch in one product:
//   dcols (N, C·KH·KW, P) = Wᵀ (C·KH·KW, OC) @ g (OC, N·P)
template <typename T, bool BLOCKED, typename SA, typename SB>
__device__ void conv_dcols_body(const T* w, const T* g, T* dcols, int N, int OC, int K, int OH,
                                int OW, int tile, SA& As, SB& Bs) {
    gemm_any_tile<T, BLOCKED>(tile, Dense<T>(w, 0, 1, K), GradByChannel<T>(g, OC, OH, OW),
                              BatchStore<T>(dcols, nullptr, K, OH * OW), As, Bs, K,
                              N * OH * OW, OC, 1, 1, OC);
}
template <typename T>
__global__ void conv_dcols(const T* __restrict__ w, const T* __restrict__ g,
                           T* __restrict__ dcols, int N, int OC, int K, int OH, int OW,
                           int tile) {
    __shared__ T As[GEMM_TM_MAX][GEMM_TK + 1];
    __shared__ T Bs[GEMM_TK][GEMM_TN_MAX + 1];
    conv_dcols_body<T, false>(w, g, dcols, N, OC, K, OH, OW, tile, As, Bs);
}
template <typename T>
__global__ void conv_dcols_blocked(const T* __restrict__ w, const T* __restrict__ g,
                                   T* __restrict__ dcols, int N, int OC, int K, int OH, int OW,
                                   int tile) {
    __shared__ T As[GEMM_TM_MAX][GEMM_TK + 1];
    __shared__ T Bs[GEMM_TK][GEMM_TN_MAX + 1];
    conv_dcols_body<T, true>(w, g, dcols, N, OC, K, OH, OW, tile, As, Bs);
}

// out[e] = Σ_s partial[s, e], s = 0 .. splits-1: split-K's partial results added up in an order
// that depends on `splits` only. A block of (32, REDUCE_LANES) threads covers 32 consecutive
// elements e (coalesced reads of each partial): thread (ty, tx) adds s = ty, ty + LANES, ...
// for its element e0 + tx, in that order; then the block adds its LANES sums as a tree in
// shared memory (lane ty + half into lane ty, halving). Blocks loop over groups of 32 elements.
template <typename T>
__global__ void sum_partials(const T* __restrict__ partial, T* __restrict__ out,
                             int splits, long long size) {
    __shared__ T lane[REDUCE_LANES][32];
    const int tx = threadIdx.x, ty = threadIdx.y;
    for (long long e0 = blockIdx.x * 32LL; e0 < size; e0 += gridDim.x * 32LL) {
        const long long e = e0 + tx;
        T s = 0;
        if (e < size)
            for (int k = ty; k < splits; k += REDUCE_LANES) s += partial[(long long)k * size + e];
        lane[ty][tx] = s;
        __syncthreads();
        for (int half = REDUCE_LANES / 2; half > 0; half /= 2) {
            if (ty < half) lane[ty][tx] += lane[ty + half][tx];
            __syncthreads();
        }
        if (ty == 0 && e < size) out[e] = lane[0][tx];
        __syncthreads();                       // lane[0] is read before the next round writes
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
