// Average pool forward and backward, as backend/cpu.py: avgpool2d_fwd / avgpool2d_bwd.
// x: (N, C, H, W), out: (N, C, OH, OW); kernel KH x KW, stride SH x SW, padding PH x PW.
// Each output divides its window's sum by
//   DIVISOR when it is > 0 (divisor_override), else
//   the window clipped to the padded image when COUNT_PAD is 1 (count_include_pad),
//   else the window clipped to the image itself — PyTorch's rule.

// The divisor of output (oh, ow).
__device__ __forceinline__ int avgpool_divisor(int oh, int ow, int H, int W, int KH, int KW,
                                               int SH, int SW, int PH, int PW, int COUNT_PAD,
                                               int DIVISOR) {
    if (DIVISOR > 0) return DIVISOR;
    const int h0 = oh * SH - PH, w0 = ow * SW - PW;
    const int h1 = min(h0 + KH, H + PH), w1 = min(w0 + KW, W + PW);   // in the padded image
    if (COUNT_PAD) return (h1 - h0) * (w1 - w0);
    return (min(h1, H) - max(h0, 0)) * (min(w1, W) - max(w0, 0));    // in the image
}

// One thread per output element: sum its window row by row over the image (padding adds
// zeros, so it is skipped), then divide.
template <typename T>
__global__ void avgpool2d_fwd(const T* __restrict__ x, T* __restrict__ out, int N, int C,
                              int H, int W, int KH, int KW, int SH, int SW, int PH, int PW,
                              int OH, int OW, int COUNT_PAD, int DIVISOR) {
    const long long total = (long long)N * C * OH * OW;
    for (long long idx = blockIdx.x * (long long)blockDim.x + threadIdx.x; idx < total;
         idx += (long long)gridDim.x * blockDim.x) {
        const int ow = idx % OW;
        const int oh = (idx / OW) % OH;
        const T* xp = x + idx / ((long long)OH * OW) * H * W;        // plane n*C + c
        T sum = 0;
        for (int i = 0; i < KH; ++i) {
            const int y = oh * SH + i - PH;
            if (y < 0 || y >= H) continue;
            for (int j = 0; j < KW; ++j) {
                const int xx = ow * SW + j - PW;
                if (xx >= 0 && xx < W) sum += xp[y * W + xx];
            }
        }
        out[idx] = sum / T(avgpool_divisor(oh, ow, H, W, KH, KW, SH, SW, PH, PW, COUNT_PAD,
                                           DIVISOR));
    }
}

// The backward as a gather: one thread per input element (n, c, y, x) visits the windows
// that contain it, oh in [ceil((y+PH-KH+1)/SH), (y+PH)/SH] (and likewise ow), and adds
// each one's gradient over its divisor. No atomics; a fixed order.
template <typename T>
__global__ void avgpool2d_bwd(const T* __restrict__ g, T* __restrict__ dx, int N, int C,
                              int H, int W, int KH, int KW, int SH, int SW, int PH, int PW,
                              int OH, int OW, int COUNT_PAD, int DIVISOR) {
    const long long total = (long long)N * C * H * W;
    for (long long idx = blockIdx.x * (long long)blockDim.x + threadIdx.x; idx < total;
         idx += (long long)gridDim.x * blockDim.x) {
        const int xx = idx % W;
        const int y = (idx / W) % H;
        const T* gp = g + idx / ((long long)H * W) * OH * OW;       // plane n*C + c
        const int py = y + PH, px = xx + PW;
        const int oh0 = py >= KH ? (py - KH) / SH + 1 : 0, oh1 = min(py / SH, OH - 1);
        const int ow0 = px >= KW ? (px - KW) / SW + 1 : 0, ow1 = min(px / SW, OW - 1);
        T sum = 0;
        for (int oh = oh0; oh <= oh1; ++oh) {
            for (int ow = ow0; ow <= ow1; ++ow) {
                sum += gp[oh * OW + ow] / T(avgpool_divisor(oh, ow, H, W, KH, KW, SH, SW, PH,
                                                            PW, COUNT_PAD, DIVISOR));
            }
        }
        dx[idx] = sum;
    }
}
