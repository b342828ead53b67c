// Max-pool forward and backward. x: (N, C, H, W), out and arg: (N, C, OH, OW).
// arg holds the position of the max inside its window, i*KW + j, as in backend/cpu.py.

// One thread per output element: scan the window row by row (skipping padding, which never
// wins) and take a value when it is strictly larger, so ties go to the earliest position,
// or when it is NaN, so a NaN always wins and, of several, the last one does. Both are
// PyTorch's rules (its CPU and CUDA kernels alike), so the gradient goes where PyTorch's does.
__device__ __forceinline__ bool is_nan(float v) { return v != v; }
__device__ __forceinline__ bool is_nan(double v) { return v != v; }

// Index arithmetic in 32 bits when the tensor allows it (LeNet's always do): on the GPU a
// 64-bit division is a long software routine, a 32-bit one a few instructions. Returns
// a / b and sets rem = a % b, for 0 <= a and 0 < b; `small` says a < 2^31.
__device__ __forceinline__ long long div_rem(long long a, int b, bool small, int& rem) {
    if (small) {
        const unsigned q = (unsigned)a / (unsigned)b;
        rem = (int)((unsigned)a - q * (unsigned)b);
        return q;
    }
    const long long q = a / b;
    rem = (int)(a - q * b);
    return q;
}
const long long INDEX_32_MAX = 2147483647LL;

template <typename T>
__global__ void maxpool2d_fwd(const T* __restrict__ x, T* __restrict__ out,
                              int* __restrict__ arg, int N, int C, int H, int W,
                              int KH, int KW, int S, int PAD, int OH, int OW) {
    const long long total = (long long)N * C * OH * OW;
    const bool small = total <= INDEX_32_MAX;
    for (long long idx = blockIdx.x * (long long)blockDim.x + threadIdx.x; idx < total;
         idx += (long long)gridDim.x * blockDim.x) {
        int ow, oh;
        const long long plane = div_rem(div_rem(idx, OW, small, ow), OH, small, oh); // n*C + c
        const T* xp = x + plane * H * W;
        T best = 0;
        int where = -1;
        for (int i = 0; i < KH; ++i) {
            const int y = oh * S + i - PAD;
            if (y < 0 || y >= H) continue;
            for (int j = 0; j < KW; ++j) {
                const int xx = ow * S + j - PAD;
                if (xx < 0 || xx >= W) continue;
                const T v = xp[y * W + xx];
                if (where < 0 || v > best || is_nan(v)) { best = v; where = i * KW + j; }
            }
        }
        out[idx] = best;
        arg[idx] = where;
    }
}

// The backward as a gather: one thread per input element (n, c, y, x) visits the windows
// that contain it, oh in [ceil((y+PAD-KH+1)/S), (y+PAD)/S] and likewise ow, and adds the
// gradient of each window whose max sat exactly here. No atomics; a fixed order.
template <typename T>
__global__ void maxpool2d_bwd(const T* __restrict__ g, const int* __restrict__ arg,
                              T* __restrict__ dx, int N, int C, int H, int W,
                              int KH, int KW, int S, int PAD, int OH, int OW) {
    const long long total = (long long)N * C * H * W;
    const bool small = total <= INDEX_32_MAX;
    for (long long idx = blockIdx.x * (long long)blockDim.x + threadIdx.x; idx < total;
         idx += (long long)gridDim.x * blockDim.x) {
        int xx, y;
        const long long plane = div_rem(div_rem(idx, W, small, xx), H, small, y);  // n*C + c
        const int py = y + PAD, px = xx + PAD;
        const int oh0 = py >= KH ? (py - KH) / S + 1 : 0, oh1 = min(py / S, OH - 1);
        const int ow0 = px >= KW ? (px - KW) / S + 1 : 0, ow1 = min(px / S, OW - 1);
        T sum = 0;
        for (int oh = oh0; oh <= oh1; ++oh) {
            for (int ow = ow0; ow <= ow1; ++ow) {
                const long long o = plane * OH * OW + (long long)oh * OW + ow;
                if (arg[o] == (py - oh * S) * KW + (px - ow * S)) sum += g[o];
            }
        }
        dx[idx] = sum;
    }
}
