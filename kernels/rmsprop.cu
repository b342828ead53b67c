// One RMSprop step for one parameter tensor, PyTorch's formula, in place; one thread per
// element (grid-stride loop), as backend/cpu.py: rmsprop_step.
//   g   = grad + weight_decay * p
//   s   = alpha * s + (1 - alpha) * g * g
//   avg = sqrt(s - gbar * gbar) + eps, gbar += (1 - alpha) * (g - gbar)   when CENTERED
//         sqrt(s) + eps                                                   otherwise
//   with momentum > 0: buf = momentum * buf + g / avg;  p -= lr * buf
//   without:           p -= lr * g / avg
// grad_avg is read and written only when CENTERED, momentum_buf only when momentum > 0
// (the launcher passes a null pointer in their place otherwise). ONE_MINUS_ALPHA is 1 - alpha
// worked out on the host in double: in float, 1 - 0.99f loses ~1e-6 of its value (and
// 1 - 0.999f ~1e-5), which PyTorch, passing 1 - alpha from Python, does not.

__device__ __forceinline__ float sqrt_t(float v) { return sqrtf(v); }
__device__ __forceinline__ double sqrt_t(double v) { return sqrt(v); }

template <typename T>
__global__ void rmsprop_step(T* __restrict__ p, const T* __restrict__ grad,
                             T* __restrict__ square_avg, T* __restrict__ grad_avg,
                             T* __restrict__ momentum_buf, long long size, T lr, T alpha,
                             T ONE_MINUS_ALPHA, T eps, T weight_decay, T momentum,
                             int CENTERED) {
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < size;
         i += (long long)gridDim.x * blockDim.x) {
        T g = grad[i];
        if (weight_decay != T(0)) g += weight_decay * p[i];
        const T s = alpha * square_avg[i] + ONE_MINUS_ALPHA * g * g;
        square_avg[i] = s;
        T avg;
        if (CENTERED) {
            const T gbar = grad_avg[i] + ONE_MINUS_ALPHA * (g - grad_avg[i]);
            grad_avg[i] = gbar;
            avg = sqrt_t(s - gbar * gbar) + eps;
        } else {
            avg = sqrt_t(s) + eps;
        }
        if (momentum > T(0)) {
            const T buf = momentum * momentum_buf[i] + g / avg;
            momentum_buf[i] = buf;
            p[i] -= lr * buf;
        } else {
            p[i] -= lr * (g / avg);
        }
    }
}
