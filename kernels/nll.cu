// Negative log-likelihood of log-probabilities logp (B, K) against classes t (B,), with
// optional class weights (K,) and an ignored class, as backend/cpu.py: nll_fwd / nll_bwd.
// HAS_WEIGHT = 0: every class weighs 1 and `weight` is not read.

// One thread per row b: w[b] = weight[t[b]] (or 1), 0 when t[b] == IGNORE;
// loss[b] = -w[b] * logp[b, t[b]]. A class outside [0, K) that is not IGNORE gives a NaN
// loss and weight (the Python side checks classes on the CPU; on the GPU a check would
// stall the stream every step).
template <typename T>
__global__ void nll_fwd(const T* __restrict__ logp, const long long* __restrict__ t,
                        const T* __restrict__ weight, T* __restrict__ loss, T* __restrict__ w,
                        int B, int K, long long IGNORE, int HAS_WEIGHT) {
    for (int b = blockIdx.x * blockDim.x + threadIdx.x; b < B; b += gridDim.x * blockDim.x) {
        const long long target = t[b];
        if (target == IGNORE) {
            loss[b] = T(0);
            w[b] = T(0);
        } else if (target < 0 || target >= K) {
            loss[b] = T(0) / T(0);
            w[b] = T(0) / T(0);
        } else {
            const T wb = HAS_WEIGHT ? weight[target] : T(1);
            loss[b] = -wb * logp[(long long)b * K + target];
            w[b] = wb;
        }
    }
}

// One thread per element (b, k): dlogp = -w[b] * g[b] where k == t[b], else 0.
template <typename T>
__global__ void nll_bwd(const T* __restrict__ g, const long long* __restrict__ t,
                        const T* __restrict__ weight, T* __restrict__ dlogp, int B, int K,
                        long long IGNORE, int HAS_WEIGHT) {
    const long long total = (long long)B * K;
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < total;
         i += (long long)gridDim.x * blockDim.x) {
        const int b = i / K, k = i % K;
        const long long target = t[b];
        T d = T(0);
        if (target == k && target != IGNORE) d = -(HAS_WEIGHT ? weight[target] : T(1)) * g[b];
        dlogp[i] = d;
    }
}
