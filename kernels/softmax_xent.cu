// Cross-entropy on raw logits z (B, K) with class targets t (B,), log-softmax and NLL fused.

__device__ __forceinline__ float exp_t(float v) { return expf(v); }
__device__ __forceinline__ double exp_t(double v) { return exp(v); }
__device__ __forceinline__ float log_t(float v) { return logf(v); }
__device__ __forceinline__ double log_t(double v) { return log(v); }

// One thread per row b: m = max_k z[b,k], lse = m + log Σ_k e^{z[b,k]-m},
// loss[b] = lse - z[b, t[b]]. A target outside [0, K) gives a NaN loss (the Python side
// checks targets on the CPU; on the GPU a check would stall the stream every step).
// K >= 1: the launcher refuses logits with no class before it would read row[0].
template <typename T>
__global__ void softmax_xent_fwd(const T* __restrict__ z, const long long* __restrict__ t,
                                 T* __restrict__ loss, T* __restrict__ lse, int B, int K) {
    for (int b = blockIdx.x * blockDim.x + threadIdx.x; b < B; b += gridDim.x * blockDim.x) {
        const T* row = z + (long long)b * K;
        T m = row[0];
        for (int k = 1; k < K; ++k) m = row[k] > m ? row[k] : m;
        T s = 0;
        for (int k = 0; k < K; ++k) s += exp_t(row[k] - m);
        const T l = m + log_t(s);
        const long long target = t[b];
        lse[b] = l;
        loss[b] = (target >= 0 && target < K) ? l - row[target] : T(0) / T(0);
    }
}

// One thread per logit (b, k): dz = g[b] * (e^{z[b,k] - lse[b]} - [k == t[b]]).
template <typename T>
__global__ void softmax_xent_bwd(const T* __restrict__ g, const T* __restrict__ z,
                                 const T* __restrict__ lse, const long long* __restrict__ t,
                                 T* __restrict__ dz, int B, int K) {
    const long long total = (long long)B * K;
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < total;
         i += (long long)gridDim.x * blockDim.x) {
        const int b = i / K, k = i % K;
        const T p = exp_t(z[i] - lse[b]);
        dz[i] = g[b] * (p - (k == t[b] ? T(1) : T(0)));
    }
}
