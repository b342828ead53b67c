// im2col and col2im for conv2d, one template each for float and double.
//
// Layout (the same as minigrad/backend/cpu.py):
//   x    : (N, C, H, W)
//   cols : (N, C*KH*KW, OH*OW), cols[n, (c,i,j), (oh,ow)] = xpad[n, c, oh*S+i, ow*S+j]
// where xpad is x with PAD zeros on every side of H and W.

// One thread per element of cols. Consecutive threads take consecutive (oh, ow), so the
// writes are coalesced; the reads are the strided window of x they unfold.
template <typename T>
__global__ void im2col(const T* __restrict__ x, T* __restrict__ cols,
                       int N, int C, int H, int W, int KH, int KW,
                       int S, int PAD, int OH, int OW) {
    const long long total = (long long)N * C * KH * KW * OH * OW;
    for (long long idx = blockIdx.x * (long long)blockDim.x + threadIdx.x; idx < total;
         idx += (long long)gridDim.x * blockDim.x) {
        long long r = idx;
        const int ow = r % OW; r /= OW;
        const int oh = r % OH; r /= OH;
        const int j = r % KW;  r /= KW;
        const int i = r % KH;  r /= KH;
        const int c = r % C;
        const int n = r / C;
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
    for (long long idx = blockIdx.x * (long long)blockDim.x + threadIdx.x; idx < total;
         idx += (long long)gridDim.x * blockDim.x) {
        long long r = idx;
        const int xx = r % W; r /= W;
        const int y = r % H;  r /= H;
        const int c = r % C;
        const int n = r / C;
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
