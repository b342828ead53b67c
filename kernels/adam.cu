// Adam, PyTorch's formula, in place; one thread per element (grid-stride loop):
//   g  = grad + weight_decay * p
//   m  = m + (1 - beta1) * (g - m)
//   v  = beta2 * v + (1 - beta2) * g * g
//   p -= step_size * m / (sqrt(v) / bc2_sqrt + eps)
// with step_size = lr / (1 - beta1^t) and bc2_sqrt = sqrt(1 - beta2^t) at step t.

__device__ __forceinline__ float sqrt_t(float v) { return sqrtf(v); }
__device__ __forceinline__ double sqrt_t(double v) { return sqrt(v); }

template <typename T>
__device__ __forceinline__ void adam_element(T* __restrict__ p, const T* __restrict__ grad,
                                             T* __restrict__ m, T* __restrict__ v,
                                             long long i, T step_size, T beta1, T beta2,
                                             T eps, T weight_decay, T bc2_sqrt) {
    T g = grad[i];
    if (weight_decay != T(0)) g += weight_decay * p[i];
    const T mi = m[i] + (T(1) - beta1) * (g - m[i]);
    const T vi = beta2 * v[i] + (T(1) - beta2) * g * g;
    m[i] = mi;
    v[i] = vi;
    p[i] -= step_size * (mi / (sqrt_t(vi) / bc2_sqrt + eps));
}

// One parameter tensor, t given by the host (step_size and bc2_sqrt computed there).
template <typename T>
__global__ void adam_step(T* __restrict__ p, const T* __restrict__ grad, T* __restrict__ m,
                          T* __restrict__ v, long long size, T step_size, T beta1, T beta2,
                          T eps, T weight_decay, T bc2_sqrt) {
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < size;
         i += (long long)gridDim.x * blockDim.x)
        adam_element(p, grad, m, v, i, step_size, beta1, beta2, eps, weight_decay, bc2_sqrt);
}

// ---- many tensors in one launch, the step count on the device -------------------------------
// The tensors of one launch, passed by value (a NumPy structured array of one element on the
// Python side, backend/cuda.py: ADAM_LIST). Their elements are numbered one after another:
// tensor j holds elements start[j] .. start[j+1]-1; the pointers are addresses as integers.
// step[j] points to tensor j's step count t (a double on the device), which
// adam_count_steps advances before adam_multi reads it: so a CUDA graph's replay is step
// t+1, not step t again.
#ifndef ADAM_MAX_TENSORS
#error "compile with -DADAM_MAX_TENSORS=<n> (backend/cuda.py does)"
#endif
struct AdamList {
    long long count;
    long long start[ADAM_MAX_TENSORS + 1];
    unsigned long long param[ADAM_MAX_TENSORS], grad[ADAM_MAX_TENSORS];
    unsigned long long exp_avg[ADAM_MAX_TENSORS], exp_avg_sq[ADAM_MAX_TENSORS];
    unsigned long long step[ADAM_MAX_TENSORS];
};

// t = t + 1 for each tensor of the list: one thread per tensor.
template <typename T>
__global__ void adam_count_steps(AdamList list) {
    const int j = blockIdx.x * blockDim.x + threadIdx.x;
    if (j < list.count) {
        double* t = reinterpret_cast<double*>(list.step[j]);
        *t += 1.0;
    }
}

// Every element of every tensor of the list: the thread of element i finds its tensor j by
// scanning start[] (at most ADAM_MAX_TENSORS entries), and computes step_size and bc2_sqrt
// from t in double precision, as the host does for adam_step (lr, beta1 and beta2 in double),
// then rounds them to T: the numbers of the one-tensor kernel, bit for bit where the
// device's pow agrees with the host's.
template <typename T>
__global__ void adam_multi(AdamList list, double lr, double beta1_d, double beta2_d,
                           T beta1, T beta2, T eps, T weight_decay) {
    const long long total = list.start[list.count];
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < total;
         i += (long long)gridDim.x * blockDim.x) {
        int j = 0;
        while (i >= list.start[j + 1]) ++j;
        const double t = *reinterpret_cast<const double*>(list.step[j]);
        const T step_size = (T)(lr / (1.0 - pow(beta1_d, t)));
        const T bc2_sqrt = (T)pow(1.0 - pow(beta2_d, t), 0.5);
        T* p = reinterpret_cast<T*>(list.param[j]);
        const T* g = reinterpret_cast<const T*>(list.grad[j]);
        T* m = reinterpret_cast<T*>(list.exp_avg[j]);
        T* v = reinterpret_cast<T*>(list.exp_avg_sq[j]);
        adam_element(p, g, m, v, i - list.start[j], step_size, beta1, beta2, eps, weight_decay,
                     bc2_sqrt);
    }
}
