// im2col and col2im for conv2d, one template each for float and double.
//
// Layout (the same as minigrad/backend/cpu.py):
//   x    : (N, C, H, W)
//   cols : (N, C*KH*KW, OH*OW), cols[n, (c,i,j), (oh,ow)] = xpad[n, c, oh*S+i, ow*S+j]
// where xpad is x with PAD zeros on every side of H and W.

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

// One thread per element of cols. Consecutive threads take consecutive (oh, ow), so the
// writes are coalesced; the reads are the strided window of x they unfold.
template <typename T>
__global__ void im2col(const T* __restrict__ x, T* __restrict__ cols,
                       int N, int C, int H, int W, int KH, int KW,
                       int S, int PAD, int OH, int OW) {
    const long long total = (long long)N * C * KH * KW * OH * OW;
    const bool small = total <= INDEX_32_MAX;
    for (long long idx = blockIdx.x * (long long)blockDim.x + threadIdx.x; idx < total;
         idx += (long long)gridDim.x * blockDim.x) {
        int ow, oh, j, i, c;
        long long r = div_rem(idx, OW, small, ow);
        r = div_rem(r, OH, small, oh);
        r = div_rem(r, KW, small, j);
        r = div_rem(r, KH, small, i);
        const int n = (int)div_rem(r, C, small, c);
        const int y = oh * S + i - PAD;
        const int xx = ow * S + j - PAD;
        T v = 0;
        if (y >= 0 && y < H && xx >= 0 && xx < W)
            v = x[(((long long)n * C + c) * H + y) * W + xx];
        cols[idx] = v;
    }
}

// The adjoint, as a gather: one thread per element of dx (n, c, y, x) adds up every
// column entry that im2col copied from that pixel, i.e. every kernel offset (i, j) with
//   oh = (y + PAD - i) / S  and  ow = (x + PAD - j) / S  whole and inside the output.
// No two threads write the same address, so there are no atomics, and each sum is taken
// in the same order every run.
template <typename T>
__global__ void col2im(const T* __restrict__ cols, T* __restrict__ dx,
                       int N, int C, int H, int W, int KH, int KW,
                       int S, int PAD, int OH, int OW) {
    const long long total = (long long)N * C * H * W;
    const long long P = (long long)OH * OW;
    const bool small = total <= INDEX_32_MAX;
    for (long long idx = blockIdx.x * (long long)blockDim.x + threadIdx.x; idx < total;
         idx += (long long)gridDim.x * blockDim.x) {
        int xx, y, c;
        long long r = div_rem(idx, W, small, xx);
        r = div_rem(r, H, small, y);
        const int n = (int)div_rem(r, C, small, c);
        T sum = 0;
        for (int i = 0; i < KH; ++i) {
            const int ty = y + PAD - i;
            if (ty < 0 || ty % S != 0 || ty / S >= OH) continue;
            const int oh = ty / S;
            for (int j = 0; j < KW; ++j) {
                const int tx = xx + PAD - j;
                if (tx < 0 || tx % S != 0 || tx / S >= OW) continue;
                const int ow = tx / S;
                const long long row = ((long long)n * C + c) * KH * KW + i * KW + j;
                sum += cols[row * P + (long long)oh * OW + ow];
            }
        }
        dx[idx] = sum;
    }
}
