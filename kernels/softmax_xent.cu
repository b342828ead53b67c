// Cross-entropy on raw logits z (B, K) with class targets t (B,), log-softmax and NLL fused.

__device__ __forceinline__ float exp_t(float v) { return expf(v); }
__device__ __forceinline__ double exp_t(double v) { return exp(v); }
__device__ __forceinline__ float log_t(float v) { return logf(v); }
__device__ __forceinline__ double log_t(double v) { return log(v); }
__device__ __forceinline__ bool is_nan(float v) { return v != v; }
__device__ __forceinline__ bool is_nan(double v) { return v != v; }

// Row b of z: lse = m + log Σ_k e^{z[b,k]-m} with m = max_k z[b,k]; loss = lse - z[b, t[b]]
// (NaN for a target outside [0, K): the Python side checks targets on the CPU; on the GPU a
// check would stall the stream every step); hit = 1 when the first largest logit (a NaN
// counts as largest, the first one, as NumPy's argmax) is the target's. K >= 1.
template <typename T>
__device__ void xent_row(const T* __restrict__ row, long long target, int K, T& lse, T& loss,
                         int& hit) {
    T m = row[0];
    int arg = 0;
    for (int k = 1; k < K; ++k) {
        m = row[k] > m ? row[k] : m;
        const T best = row[arg];
        if (is_nan(row[k]) ? !is_nan(best) : (!is_nan(best) && row[k] > best)) arg = k;
    }
    T s = 0;
    for (int k = 0; k < K; ++k) s += exp_t(row[k] - m);
    lse = m + log_t(s);
    const bool valid = target >= 0 && target < K;
    loss = valid ? lse - row[target] : T(0) / T(0);
    hit = valid && arg == target;
}

// One thread per row b: loss[b] and lse[b].
template <typename T>
__global__ void softmax_xent_fwd(const T* __restrict__ z, const long long* __restrict__ t,
                                 T* __restrict__ loss, T* __restrict__ lse, int B, int K) {
    for (int b = blockIdx.x * blockDim.x + threadIdx.x; b < B; b += gridDim.x * blockDim.x) {
        T lse_b, loss_b;
        int hit;
        xent_row(z + (long long)b * K, t[b], K, lse_b, loss_b, hit);
        lse[b] = lse_b;
        loss[b] = loss_b;
    }
}

// The whole loss in ONE block (launched with XENT_THREADS threads, a power of two): thread i
// takes rows i, i + XENT_THREADS, ... (lse[b] for the backward; loss[b] too when `losses` is
// given), summing their losses, hits and counted rows in that order; a row whose target is
// ignore_index has loss 0 and is not counted. The block then adds the threads' sums as a
// tree in shared memory — a fixed order, so the same bits every run. Thread 0 writes
// kept[0] = the rows counted (n), total[0] = the sum, divided by n when `mean` (when `total`
// is given; 0/0 = NaN when n = 0, as PyTorch), and, when `stats` is given and n > 0, adds
// to the running totals there: stats[0] += the batch's mean loss, stats[1] += its correct
// predictions, stats[2] += n, stats[3] += 1 (one batch). So a training step needs no
// separate mean, no accuracy ops and no host copy.
#ifndef XENT_THREADS
#error "compile with -DXENT_THREADS=<block size> (backend/cuda.py does)"
#endif
template <typename T>
__global__ void softmax_xent_loss(const T* __restrict__ z, const long long* __restrict__ t,
                                  T* __restrict__ lse, T* __restrict__ losses,
                                  T* __restrict__ total, double* __restrict__ stats,
                                  T* __restrict__ kept, int B, int K, int mean,
                                  long long ignore_index) {
    __shared__ T loss_part[XENT_THREADS];
    __shared__ int hit_part[XENT_THREADS];
    __shared__ int kept_part[XENT_THREADS];
    const int i = threadIdx.x;
    T loss_sum = 0;
    int hits = 0, counted = 0;
    for (int b = i; b < B; b += XENT_THREADS) {
        T lse_b, loss_b;
        int hit;
        const bool ignored = t[b] == ignore_index;
        xent_row(z + (long long)b * K, ignored ? 0 : t[b], K, lse_b, loss_b, hit);
        if (ignored) loss_b = T(0), hit = 0;
        lse[b] = lse_b;
        if (losses) losses[b] = loss_b;
        loss_sum += loss_b;
        hits += hit;
        counted += !ignored;
    }
    loss_part[i] = loss_sum;
    hit_part[i] = hits;
    kept_part[i] = counted;
    __syncthreads();
    for (int half = XENT_THREADS / 2; half > 0; half /= 2) {
        if (i < half) {
            loss_part[i] += loss_part[i + half];
            hit_part[i] += hit_part[i + half];
            kept_part[i] += kept_part[i + half];
        }
        __syncthreads();
    }
    if (i == 0) {
        const T batch_mean = loss_part[0] / T(kept_part[0]);     // 0/0 = NaN: none counted
        kept[0] = T(kept_part[0]);
        if (total) total[0] = mean ? batch_mean : loss_part[0];
        if (stats && kept_part[0] > 0) {
            stats[0] += (double)batch_mean;
            stats[1] += (double)hit_part[0];
            stats[2] += (double)kept_part[0];
            stats[3] += 1.0;
        }
    }
}

// One thread per logit (b, k): dz = g_b * (e^{z[b,k] - lse[b]} - [k == t[b]]) with
// g_b = g[b * g_step] / denominator: g_step = 1 and denominator 1 for per-sample gradients,
// g_step = 0 for the gradient of a sum (denominator 1) or of a mean (denominator: kept[0],
// the rows the forward counted, read on the device) — the division the CPU does as g / n,
// here inside the kernel. dz = 0 in a row whose target is ignore_index.
template <typename T>
__global__ void softmax_xent_bwd(const T* __restrict__ g, const T* __restrict__ z,
                                 const T* __restrict__ lse, const long long* __restrict__ t,
                                 T* __restrict__ dz, int B, int K, int g_step,
                                 const T* __restrict__ kept, long long ignore_index) {
    const long long total = (long long)B * K;
    const T denominator = kept ? kept[0] : T(1);
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < total;
         i += (long long)gridDim.x * blockDim.x) {
        const int b = (int)(i / K), k = (int)(i - (long long)b * K);
        if (t[b] == ignore_index) {
            dz[i] = T(0);
            continue;
        }
        const T p = exp_t(z[i] - lse[b]);
        const T gb = g[(long long)b * g_step] / denominator;
        dz[i] = gb * (p - (k == t[b] ? T(1) : T(0)));
    }
}
