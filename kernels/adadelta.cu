// One Adadelta step for one parameter tensor, PyTorch's formula, in place; one thread per
// element (grid-stride loop), as backend/cpu.py: adadelta_step.
//   g     = grad + weight_decay * p
//   s     = rho * s + (1 - rho) * g * g
//   delta = sqrt(acc + eps) / sqrt(s + eps) * g
//   acc   = rho * acc + (1 - rho) * delta * delta
//   p    -= lr * delta
// ONE_MINUS_RHO is 1 - rho worked out on the host in double, as PyTorch passes it (in
// float, 1 - rho loses up to ~1e-5 of its value when rho is near 1).

__device__ __forceinline__ float sqrt_t(float v) { return sqrtf(v); }
__device__ __forceinline__ double sqrt_t(double v) { return sqrt(v); }

template <typename T>
__global__ void adadelta_step(T* __restrict__ p, const T* __restrict__ grad,
                              T* __restrict__ square_avg, T* __restrict__ acc_delta,
                              long long size, T lr, T rho, T ONE_MINUS_RHO, T eps,
                              T weight_decay) {
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < size;
         i += (long long)gridDim.x * blockDim.x) {
        T g = grad[i];
        if (weight_decay != T(0)) g += weight_decay * p[i];
        const T s = rho * square_avg[i] + ONE_MINUS_RHO * g * g;
        const T delta = sqrt_t(acc_delta[i] + eps) / sqrt_t(s + eps) * g;
        square_avg[i] = s;
        acc_delta[i] = rho * acc_delta[i] + ONE_MINUS_RHO * delta * delta;
        p[i] -= lr * delta;
    }
}
