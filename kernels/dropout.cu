// Dropout masks from a counter-based generator: Philox4x32-10 (Salmon et al., "Parallel
// random numbers: as easy as 1, 2, 3", SC 2011). A counter-based generator is a pure
// function of (counter, key): there is no state in global memory to load and store, any
// thread can draw any number of the stream directly, and the same (seed, offset) gives
// the same bits on any GPU and with any launch shape.
//
// state = {seed, offset} lives in device memory (two int64), read by the mask kernel and
// advanced by philox_advance on the same stream. So a training step captured as a CUDA
// graph and replayed draws a new mask each time (the graph holds the pointer, not the
// numbers), and manual_seed rewrites both in place.
//
// The bits are not PyTorch's: PyTorch's CUDA generator also uses Philox4x32-10, but maps
// its counters, offsets and uniforms differently, and its CPU generator is a Mersenne
// Twister; minigrad's CPU dropout draws from NumPy's generator.

// One Philox round on the 128-bit counter c with the 64-bit key k: two 32x32 -> 64-bit
// products (their high and low halves), mixed with the other words and the key.
__device__ __forceinline__ void philox_round(unsigned int c[4], const unsigned int k[2]) {
    const unsigned long long p0 = 0xD2511F53ull * c[0];
    const unsigned long long p1 = 0xCD9E8D57ull * c[2];
    const unsigned int hi0 = (unsigned int)(p0 >> 32), lo0 = (unsigned int)p0;
    const unsigned int hi1 = (unsigned int)(p1 >> 32), lo1 = (unsigned int)p1;
    c[0] = hi1 ^ c[1] ^ k[0];
    c[1] = lo1;
    c[2] = hi0 ^ c[3] ^ k[1];
    c[3] = lo0;
}

// Philox4x32-10: ten rounds, the key bumped by the Weyl constants between them. Turns the
// counter c into four independent uniform 32-bit numbers, in place.
__device__ __forceinline__ void philox4x32_10(unsigned int c[4], unsigned int k0,
                                              unsigned int k1) {
    unsigned int k[2] = {k0, k1};
    for (int round = 0; round < 10; ++round) {
        if (round > 0) {
            k[0] += 0x9E3779B9u;
            k[1] += 0xBB67AE85u;
        }
        philox_round(c, k);
    }
}

// mask[i] = SCALE where element i is kept, else 0; kept means r_i >= THRESHOLD, where r_i
// is a uniform 32-bit number and THRESHOLD = floor(p * 2^32), so P(kept) = 1 - p (to
// 2^-32). One thread per group of four elements: group q draws its four numbers from
// counter (q, offset) — q in the low 64 bits, offset in the high 64 — with key = seed.
// So each call (one offset) has its own stream, whatever the size.
template <typename T>
__global__ void dropout_mask(T* __restrict__ mask, long long size,
                             const long long* __restrict__ state, long long THRESHOLD,
                             T SCALE) {
    const unsigned long long seed = (unsigned long long)state[0];
    const unsigned long long offset = (unsigned long long)state[1];
    const long long groups = (size + 3) / 4;
    for (long long q = blockIdx.x * (long long)blockDim.x + threadIdx.x; q < groups;
         q += (long long)gridDim.x * blockDim.x) {
        unsigned int c[4] = {(unsigned int)q, (unsigned int)((unsigned long long)q >> 32),
                             (unsigned int)offset, (unsigned int)(offset >> 32)};
        philox4x32_10(c, (unsigned int)seed, (unsigned int)(seed >> 32));
        for (int e = 0; e < 4 && 4 * q + e < size; ++e) {
            mask[4 * q + e] = (long long)c[e] >= THRESHOLD ? SCALE : T(0);
        }
    }
}

// offset += 1, after each mask: the next call draws a fresh stream. One thread. (The
// template parameter is unused: every kernel here is instantiated for float and double.)
template <typename T>
__global__ void philox_advance(long long* __restrict__ state) {
    if (blockIdx.x == 0 && threadIdx.x == 0) state[1] += 1;
}
