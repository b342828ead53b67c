// Batch normalisation of x (N, C, L): each channel c normalised over its M = N·L values
// (BatchNorm1d's (N, C) is L = 1, its (N, C, L) as it is, BatchNorm2d's (N, C, H, W) is
// L = H·W). Element k (0 <= k < M) of channel c is x[(n·C + c)·L + l] with n = k / L,
// l = k % L.
//
// ONE BLOCK PER CHANNEL (grid C, BN_THREADS threads, a power of two). Thread i takes the
// elements k = i, i + BN_THREADS, i + 2·BN_THREADS, ... of its channel, adding them up in
// that order; the block then adds the threads' partial sums as a tree in shared memory
// (block_sum): a fixed order, no atomics, so the same bits on every run and every GPU.
// Thread 0 alone writes the per-channel results (1/σ, the running statistics, dγ, dβ);
// every thread then writes the element-wise results of its own elements k.
#ifndef BN_THREADS
#error "compile with -DBN_THREADS=<block size> (backend/cuda/runtime.py does)"
#endif

__device__ __forceinline__ float sqrt_t(float v) { return sqrtf(v); }
__device__ __forceinline__ double sqrt_t(double v) { return sqrt(v); }

// Where element k of channel c lives in an (N, C, L) array.
__device__ __forceinline__ long long bn_at(long long k, int c, int C, int L) {
    const long long n = k / L;
    return (n * C + c) * L + (k - n * L);
}

// The sum of every thread's `v` over the block: part[i] = v, then in log2(BN_THREADS) steps
// thread i < half adds part[i + half] into part[i]; every thread returns part[0]. The last
// barrier keeps part from being written again (by the next block_sum) before all have read.
template <typename Part, typename T>
__device__ T block_sum(Part& part, T v) {
    const int i = threadIdx.x;
    part[i] = v;
    __syncthreads();
    for (int half = BN_THREADS / 2; half > 0; half /= 2) {
        if (i < half) part[i] += part[i + half];
        __syncthreads();
    }
    const T total = part[0];
    __syncthreads();
    return total;
}

// Forward. Training (`training` = 1): the batch's statistics of channel c,
//     mean = Σ_k x_k / M,   var = Σ_k (x_k − mean)² / M     (biased; two passes, for accuracy)
// and, when running_mean is given, the running statistics updated in place (thread 0):
//     running_mean = (1 − momentum)·running_mean + momentum·mean
//     running_var  = (1 − momentum)·running_var  + momentum·var·M/(M − 1)   (unbiased)
// Evaluation (`training` = 0): mean and var are running_mean[c] and running_var[c].
// Then 1/σ = 1/√(var + eps), and for every element (its own thread):
//     xhat = (x − mean)·(1/σ),   y = γ·xhat + β     (γ = 1, β = 0 when weight is null)
// invstd[c] = 1/σ and xhat are what the backward needs.
template <typename T>
__global__ void batchnorm_fwd(const T* __restrict__ x, const T* __restrict__ weight,
                              const T* __restrict__ bias, T* __restrict__ running_mean,
                              T* __restrict__ running_var, T* __restrict__ y,
                              T* __restrict__ xhat, T* __restrict__ invstd, int N, int C,
                              int L, int training, T momentum, T eps) {
    __shared__ T part[BN_THREADS];
    __shared__ T stat[2];                      // this channel's mean and 1/σ, for every thread
    const int c = blockIdx.x, i = threadIdx.x;
    const long long M = (long long)N * L;
    if (training) {
        T s = T(0);
        for (long long k = i; k < M; k += BN_THREADS) s += x[bn_at(k, c, C, L)];
        const T mean = block_sum(part, s) / T(M);
        T q = T(0);
        for (long long k = i; k < M; k += BN_THREADS) {
            const T d = x[bn_at(k, c, C, L)] - mean;
            q += d * d;
        }
        const T var = block_sum(part, q) / T(M);
        if (i == 0) {
            stat[0] = mean;
            stat[1] = T(1) / sqrt_t(var + eps);
            if (running_mean) {
                running_mean[c] = (T(1) - momentum) * running_mean[c] + momentum * mean;
                running_var[c] = (T(1) - momentum) * running_var[c]
                                 + momentum * var * (T(M) / T(M - 1));
            }
        }
    } else if (i == 0) {
        stat[0] = running_mean[c];
        stat[1] = T(1) / sqrt_t(running_var[c] + eps);
    }
    __syncthreads();
    const T mean = stat[0], r = stat[1];
    if (i == 0) invstd[c] = r;
    const T gamma = weight ? weight[c] : T(1), beta = bias ? bias[c] : T(0);
    for (long long k = i; k < M; k += BN_THREADS) {
        const long long at = bn_at(k, c, C, L);
        const T xh = (x[at] - mean) * r;
        xhat[at] = xh;
        y[at] = gamma * xh + beta;
    }
}

// Backward, with g = dL/dy. The block first sums, in the fixed order above,
//     Σg = Σ_k g_k   and   Σgx̂ = Σ_k g_k·xhat_k
// (both trees in one pass over part_g and part_gx). Thread 0 writes dβ[c] = Σg and
// dγ[c] = Σgx̂ (when dweight / dbias are given). Then each thread writes dx for its elements:
//     training:   dx = γ·(1/σ)·(g − Σg/M − xhat·Σgx̂/M)
//     evaluation: dx = γ·(1/σ)·g                 (the running statistics are constants)
// (when dx is given). The training formula is (1/σ)·(gγ − mean(gγ) − x̂·mean(gγ·x̂)) with γ,
// constant over the channel, taken out of the means.
template <typename T>
__global__ void batchnorm_bwd(const T* __restrict__ g, const T* __restrict__ xhat,
                              const T* __restrict__ invstd, const T* __restrict__ weight,
                              T* __restrict__ dx, T* __restrict__ dweight,
                              T* __restrict__ dbias, int N, int C, int L, int training) {
    __shared__ T part_g[BN_THREADS];
    __shared__ T part_gx[BN_THREADS];
    const int c = blockIdx.x, i = threadIdx.x;
    const long long M = (long long)N * L;
    T sg = T(0), sgx = T(0);
    for (long long k = i; k < M; k += BN_THREADS) {
        const long long at = bn_at(k, c, C, L);
        sg += g[at];
        sgx += g[at] * xhat[at];
    }
    part_g[i] = sg;
    part_gx[i] = sgx;
    __syncthreads();
    for (int half = BN_THREADS / 2; half > 0; half /= 2) {
        if (i < half) {
            part_g[i] += part_g[i + half];
            part_gx[i] += part_gx[i + half];
        }
        __syncthreads();
    }
    const T sum_g = part_g[0], sum_gx = part_gx[0];
    if (i == 0) {
        if (dweight) dweight[c] = sum_gx;
        if (dbias) dbias[c] = sum_g;
    }
    if (!dx) return;
    const T scale = (weight ? weight[c] : T(1)) * invstd[c];
    const T mean_g = training ? sum_g / T(M) : T(0), mean_gx = training ? sum_gx / T(M) : T(0);
    for (long long k = i; k < M; k += BN_THREADS) {
        const long long at = bn_at(k, c, C, L);
        dx[at] = scale * (g[at] - mean_g - xhat[at] * mean_gx);
    }
}
