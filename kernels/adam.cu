// One Adam step for one parameter tensor, PyTorch's formula, in place; one thread per
// element (grid-stride loop):
//   g  = grad + weight_decay * p
//   m  = m + (1 - beta1) * (g - m)
//   v  = beta2 * v + (1 - beta2) * g * g
//   p -= step_size * m / (sqrt(v) / bc2_sqrt + eps)
// with step_size = lr / (1 - beta1^t) and bc2_sqrt = sqrt(1 - beta2^t) from the host.

__device__ __forceinline__ float sqrt_t(float v) { return sqrtf(v); }
__device__ __forceinline__ double sqrt_t(double v) { return sqrt(v); }

template <typename T>
__global__ void adam_step(T* __restrict__ p, const T* __restrict__ grad, T* __restrict__ m,
                          T* __restrict__ v, long long size, T step_size, T beta1, T beta2,
                          T eps, T weight_decay, T bc2_sqrt) {
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < size;
         i += (long long)gridDim.x * blockDim.x) {
        T g = grad[i];
        if (weight_decay != T(0)) g += weight_decay * p[i];
        const T mi = m[i] + (T(1) - beta1) * (g - m[i]);
        const T vi = beta2 * v[i] + (T(1) - beta2) * g * g;
        m[i] = mi;
        v[i] = vi;
        p[i] -= step_size * (mi / (sqrt_t(vi) / bc2_sqrt + eps));
    }
}
