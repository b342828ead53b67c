// Host emulation of the CUDA features minigrad's kernels use, so that the tests can run the
// kernels' own source on a CPU (fake_cupy.py compiles each kernel file with g++ after this
// header). It checks what the host can see, and reports each problem as an error of the
// launch that caused it, naming the thread and block:
//
//  * every thread of a block is a fiber (its own small stack) on ONE OS thread; a block runs
//    its threads in turn until each one finishes or waits at __syncthreads(), and when all
//    are waiting, all go on. So runs are deterministic, and a barrier some threads never
//    reach (divergence) or threads waiting at different __syncthreads() are errors, not hangs;
//  * __shared__ arrays (rewritten by fake_cupy into emu::shared_array) are filled with a
//    poison pattern (0xFF bytes: NaN, or -1) before every block, and every index is
//    bounds-checked dimension by dimension;
//  * with EMU_RACECHECK (fake_cupy's "racecheck" check), every global and shared access is
//    recorded: two threads of a block touching one address, one of them writing, with no
//    __syncthreads() between is a race; so is one address written by two blocks, or written
//    by one block and read by another (blocks are not ordered at all); reading a __shared__
//    element before any thread of the block wrote it is an uninitialised read;
//  * with EMU_MEMSTATS (fake_cupy's "memstats" check), every access is counted per warp, as a
//    GPU issues it: global sectors per warp access (coalescing) and shared-memory passes per
//    warp access (bank conflicts), per access instruction (see count_access);
//  * built with -fsanitize=address,undefined (the "sanitize" check), AddressSanitizer and
//    UBSan watch every access and index computation; fake_cupy turns their reports into
//    launch errors.
// Launch limits (grid and block sizes, static shared memory) are checked by fake_cupy.launch.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <type_traits>
#include <unordered_map>
#include <vector>

#include <sys/mman.h>
#if !defined(__x86_64__)
#include <ucontext.h>
#endif
#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#endif

struct dim3 {
    unsigned x = 1, y = 1, z = 1;
};

namespace emu {
namespace {  // internal linkage: each kernel library keeps its own emulator state

dim3 thread_idx, block_idx, block_dim, grid_dim;
unsigned block_linear, thread_linear, epoch;   // epoch: barriers passed in this block
std::string error;                               // the first error of this launch

std::string show(dim3 d) {
    return "(" + std::to_string(d.x) + "," + std::to_string(d.y) + "," + std::to_string(d.z) + ")";
}
dim3 unflatten(unsigned i, dim3 d) { return dim3{i % d.x, i / d.x % d.y, i / (d.x * d.y)}; }
std::string who(unsigned block, unsigned thread) {
    return "thread " + show(unflatten(thread, block_dim)) + " of block " +
           show(unflatten(block, grid_dim));
}
void fail(const std::string& what) {
    if (error.empty()) error = who(block_linear, thread_linear) + ": " + what;
}

// ---- fibers: one stack per CUDA thread of a block, switched by hand -------------------------
constexpr std::size_t STACK_BYTES = 256 << 10;   // ASan's reports run on this stack too

#if defined(__x86_64__)
extern "C" void emu_switch_stack(void** save_sp, void* load_sp);
// Save the callee-saved registers on the current stack, store its pointer in *save_sp, load
// load_sp and pop the registers saved there (a new fiber's stack is laid out to match).
asm(".text\n.p2align 4\n.hidden emu_switch_stack\n.globl emu_switch_stack\n"
    ".type emu_switch_stack,@function\nemu_switch_stack:\n"
    "  pushq %rbp\n  pushq %rbx\n  pushq %r12\n  pushq %r13\n  pushq %r14\n  pushq %r15\n"
    "  movq %rsp, (%rdi)\n  movq %rsi, %rsp\n"
    "  popq %r15\n  popq %r14\n  popq %r13\n  popq %r12\n  popq %rbx\n  popq %rbp\n  ret\n"
    ".size emu_switch_stack, .-emu_switch_stack\n");
struct Context {
    void* sp = nullptr;
};
void prepare(Context& c, char* stack, void (*entry)()) {
    auto* top = reinterpret_cast<void**>(stack + STACK_BYTES);   // 16-byte aligned
    top[-1] = nullptr;                                            // entry never returns
    top[-2] = reinterpret_cast<void*>(entry);                    // where `ret` goes
    for (int r = 3; r <= 8; ++r) top[-r] = nullptr;              // rbp rbx r12-r15
    c.sp = top - 8;
}
void raw_switch(Context& from, Context& to) { emu_switch_stack(&from.sp, to.sp); }
#else
struct Context {
    ucontext_t uc;
};
void prepare(Context& c, char* stack, void (*entry)()) {
    getcontext(&c.uc);
    c.uc.uc_stack.ss_sp = stack;
    c.uc.uc_stack.ss_size = STACK_BYTES;
    c.uc.uc_link = nullptr;
    makecontext(&c.uc, entry, 0);
}
void raw_switch(Context& from, Context& to) { swapcontext(&from.uc, &to.uc); }
#endif

enum class State { ready, at_barrier, done };
struct Fiber {
    Context ctx;
    char* stack = nullptr;
    State state = State::done;
    int barrier_line = 0;
    void* fake_stack = nullptr;   // AddressSanitizer's bookkeeping across switches
};
std::vector<Fiber> fibers;
Context scheduler;
void* scheduler_fake_stack = nullptr;
const void* scheduler_stack_bottom = nullptr;
std::size_t scheduler_stack_size = 0;
const std::function<void()>* kernel_body = nullptr;

// Switch stacks, telling AddressSanitizer which stack is live (it would misreport otherwise).
void to_fiber(Fiber& f) {
#if defined(__SANITIZE_ADDRESS__)
    __sanitizer_start_switch_fiber(&scheduler_fake_stack, f.stack, STACK_BYTES);
#endif
    raw_switch(scheduler, f.ctx);
#if defined(__SANITIZE_ADDRESS__)
    __sanitizer_finish_switch_fiber(scheduler_fake_stack, nullptr, nullptr);
#endif
}
void to_scheduler(Fiber& f, bool finished) {
#if defined(__SANITIZE_ADDRESS__)
    __sanitizer_start_switch_fiber(finished ? nullptr : &f.fake_stack, scheduler_stack_bottom,
                                   scheduler_stack_size);
#endif
    raw_switch(f.ctx, scheduler);
#if defined(__SANITIZE_ADDRESS__)
    __sanitizer_finish_switch_fiber(f.fake_stack, &scheduler_stack_bottom, &scheduler_stack_size);
#endif
}

void fiber_main() {
    Fiber& f = fibers[thread_linear];
#if defined(__SANITIZE_ADDRESS__)
    __sanitizer_finish_switch_fiber(nullptr, &scheduler_stack_bottom, &scheduler_stack_size);
#endif
    (*kernel_body)();
    f.state = State::done;
    to_scheduler(f, true);
    std::abort();   // a finished fiber is never resumed
}

// ---- shared memory --------------------------------------------------------------------------
struct SharedRegion {
    void* begin;
    std::size_t bytes;
};
std::vector<SharedRegion> shared_regions;
constexpr unsigned char POISON = 0xFF;   // float/double NaN, int -1

void poison_shared() {
    for (auto& r : shared_regions) std::memset(r.begin, POISON, r.bytes);
}

// ---- race and initialisation tracking (EMU_RACECHECK) ---------------------------------------
struct Buffer {
    std::string name;
    std::uintptr_t begin, end;
};
std::vector<Buffer> buffers;   // the launch's pointer arguments, named by fake_cupy

#if defined(EMU_RACECHECK)
constexpr long long NONE = -1;
struct Cell {   // who last wrote, and who read since, one address
    long long w_block = NONE;
    unsigned w_epoch = 0, w_thread = 0;
    long long r_block = NONE;
    unsigned r_epoch = 0, r_thread = 0;
    bool r_many_threads = false;   // more than one thread of r_block read it in r_epoch
    bool r_many_blocks = false;    // more than one block read it
};
std::unordered_map<const void*, Cell> global_cells, shared_cells;
// Reported at the end of the block unless a race explains it (a thread that writes the
// element later in the same barrier interval is the missing-barrier race, reported as such).
std::string uninitialised_read;

std::string global_name(const void* p, std::size_t elem) {
    auto a = reinterpret_cast<std::uintptr_t>(p);
    for (auto& b : buffers)
        if (a >= b.begin && a < b.end) return b.name + "[" + std::to_string((a - b.begin) / elem) + "]";
    return "global address " + std::to_string(a);
}

// `name` is the element's description; `shared` selects the per-block rules and the map.
void record(const void* p, bool write, bool shared, const std::function<std::string()>& name) {
    Cell& c = (shared ? shared_cells : global_cells)[p];
    const long long b = block_linear;
    const unsigned e = epoch, t = thread_linear;
    if (!write && shared && c.w_block == NONE && uninitialised_read.empty())
        uninitialised_read = who(b, t) + ": reads __shared__ " + name() +
                             " before any thread of its block wrote it";
    if (c.w_block != NONE) {
        if (c.w_block != b)
            fail((write ? "writes " : "reads ") + name() + ", which block " +
                 show(unflatten(c.w_block, grid_dim)) + " wrote (blocks are not ordered)");
        else if (c.w_epoch == e && c.w_thread != t)
            fail((write ? "writes " : "reads ") + name() + ", which " + who(b, c.w_thread) +
                 " wrote with no __syncthreads() between");
    }
    if (write && c.r_block != NONE) {
        if (c.r_block != b || c.r_many_blocks)
            fail("writes " + name() + ", which another block reads (blocks are not ordered)");
        else if (c.r_epoch == e && (c.r_thread != t || c.r_many_threads))
            fail("writes " + name() + ", which " +
                 (c.r_thread != t ? who(b, c.r_thread) : std::string("another thread")) +
                 " reads with no __syncthreads() between");
    }
    if (write) {
        c.w_block = b, c.w_epoch = e, c.w_thread = t;
    } else if (c.r_block == NONE || c.r_block != b || c.r_epoch != e) {
        c.r_many_blocks |= c.r_block != NONE && c.r_block != b;
        c.r_block = b, c.r_epoch = e, c.r_thread = t, c.r_many_threads = false;
    } else if (c.r_thread != t) {
        c.r_many_threads = true;
    }
}

#endif  // EMU_RACECHECK

#if defined(EMU_MEMSTATS)
// ---- coalescing and bank conflicts (EMU_MEMSTATS) -------------------------------------------
// A GPU runs an access instruction for the 32 threads of a warp at once; here the threads of a
// block run one after another, so each access is filed under (site, warp, n): the site is the
// instruction (the return address of count_access, in the kernel's body: every helper on the
// way is always inlined), n counts that thread's executions of that site so far. The n-th
// executions of one site by the threads of one warp are one warp access, as on a GPU (exact
// while the warp's threads take the same path; a divergent warp's accesses are counted as if
// they were one). At each barrier and the end of the block, every warp access is measured:
//  * global memory: the distinct 32-byte sectors its threads touch (offsets from the start of
//    the argument they fall in, which CuPy's allocator aligns to 256 bytes): 1 for a
//    broadcast, 4 for 32 adjacent floats, 32 for 32 floats a row apart;
//  * shared memory: 32 banks of 4-byte words; the access takes as many passes as the most
//    distinct words any one bank holds among its threads' (1: conflict-free; the same word
//    read by many threads is a broadcast, no conflict).
struct SiteStats {
    bool write = false, shared = false;
    std::string name;                          // the argument or __shared__ array
    unsigned long long accesses = 0, units = 0, most = 0, lanes = 0, bytes = 0;
};
struct WarpAccess {
    std::vector<std::uintptr_t> addrs;        // the first byte of each thread's element
    unsigned bytes = 0;
    bool write = false, shared = false;
    std::string name;
};
struct Key {
    const void* site;
    unsigned long long a, b;
    bool operator==(const Key& o) const { return site == o.site && a == o.a && b == o.b; }
};
struct KeyHash {
    std::size_t operator()(const Key& k) const {
        return std::hash<const void*>()(k.site) ^ (k.a * 0x9E3779B97F4A7C15ull) ^ (k.b << 17);
    }
};
std::unordered_map<Key, unsigned long long, KeyHash> executions;   // (site, thread, 0) -> n
std::unordered_map<Key, WarpAccess, KeyHash> open_accesses;       // (site, warp, n)
std::unordered_map<const void*, SiteStats> site_stats;            // summed over launches
std::vector<const void*> site_order;                               // first seen first

std::pair<std::string, std::uintptr_t> global_argument(std::uintptr_t a) {
    for (auto& b : buffers)
        if (a >= b.begin && a < b.end) return {b.name, a - b.begin};
    return {"global", a};
}

__attribute__((noinline)) void count_access(const void* p, unsigned bytes, bool write,
                                            const char* shared_name, const void* shared_base) {
    const void* site = __builtin_return_address(0);
    auto a = reinterpret_cast<std::uintptr_t>(p);
    const unsigned long long n = executions[Key{site, thread_linear, 0}]++;
    WarpAccess& w = open_accesses[Key{site, thread_linear / 32, n}];
    if (w.addrs.empty()) {
        w.bytes = bytes, w.write = write, w.shared = shared_name != nullptr;
        w.name = shared_name ? std::string(shared_name) : global_argument(a).first;
    }
    w.addrs.push_back(shared_name ? a - reinterpret_cast<std::uintptr_t>(shared_base)
                                  : global_argument(a).second);
}

// Measure every open warp access (at a barrier, or the end of a block).
void close_accesses() {
    std::vector<unsigned long long> units;
    for (auto& [key, w] : open_accesses) {
        units.clear();
        for (auto a : w.addrs)   // every 32-byte sector, or every 4-byte word, it touches
            for (auto u = a / (w.shared ? 4 : 32); u <= (a + w.bytes - 1) / (w.shared ? 4 : 32); ++u)
                units.push_back(u);
        std::sort(units.begin(), units.end());
        units.erase(std::unique(units.begin(), units.end()), units.end());
        unsigned long long cost = units.size();
        if (w.shared) {          // passes: the most distinct words in one bank
            unsigned per_bank[32] = {};
            for (auto word : units) ++per_bank[word % 32];
            cost = *std::max_element(per_bank, per_bank + 32);
        }
        if (!site_stats.count(key.site)) site_order.push_back(key.site);
        SiteStats& s = site_stats[key.site];
        s.write = w.write, s.shared = w.shared, s.name = w.name;
        s.accesses += 1;
        s.units += cost;
        s.most = std::max(s.most, cost);
        s.lanes += w.addrs.size();
        s.bytes += w.addrs.size() * w.bytes;
    }
    open_accesses.clear();
}
#endif  // EMU_MEMSTATS

#if defined(EMU_RACECHECK) || defined(EMU_MEMSTATS)
#define EMU_INLINE __attribute__((always_inline)) inline
// An element of global or shared memory: reading or writing it is recorded.
template <class T>
struct checked_ref {
    using V = std::remove_const_t<T>;
    T* p;
    const char* shared_name;   // nullptr for global memory
    const void* shared_base;

#if defined(EMU_RACECHECK)
    std::string name() const {
        if (!shared_name) return global_name(p, sizeof(T));
        return std::string(shared_name) + "[" +
               std::to_string((reinterpret_cast<const char*>(p) -
                               static_cast<const char*>(shared_base)) / sizeof(T)) + "]";
    }
#endif
    EMU_INLINE void note(bool write) const {
#if defined(EMU_RACECHECK)
        record(p, write, shared_name != nullptr, [this] { return name(); });
#endif
#if defined(EMU_MEMSTATS)
        count_access(p, sizeof(T), write, shared_name, shared_base);
#endif
    }
    EMU_INLINE operator V() const { note(false); return *p; }
    EMU_INLINE checked_ref& operator=(const V& v) { note(true); *p = v; return *this; }
    EMU_INLINE checked_ref& operator=(const checked_ref& o) { return *this = static_cast<V>(o); }
    EMU_INLINE checked_ref& operator+=(const V& v) { return *this = static_cast<V>(*this) + v; }
    EMU_INLINE checked_ref& operator-=(const V& v) { return *this = static_cast<V>(*this) - v; }
    EMU_INLINE checked_ref& operator*=(const V& v) { return *this = static_cast<V>(*this) * v; }
};

// Stands in for a kernel's `T*` parameters and locals (fake_cupy rewrites the types).
template <class T>
struct gptr {
    T* p;
    gptr(T* q = nullptr) : p(q) {}
    template <class U, class = std::enable_if_t<std::is_convertible_v<U*, T*>>>
    gptr(gptr<U> o) : p(o.p) {}
    EMU_INLINE checked_ref<T> operator[](long long i) const { return {p + i, nullptr, nullptr}; }
    EMU_INLINE checked_ref<T> operator*() const { return {p, nullptr, nullptr}; }
    gptr operator+(long long i) const { return {p + i}; }
    gptr operator-(long long i) const { return {p - i}; }
    explicit operator bool() const { return p != nullptr; }
};

template <class T>
EMU_INLINE checked_ref<T> element(T* p, const char* name, const void* base) { return {p, name, base}; }
#define EMU_SHARED_INLINE EMU_INLINE
#else
template <class T>
T& element(T* p, const char*, const void*) { return *p; }
#define EMU_SHARED_INLINE
#endif

// A view of a __shared__ array with extents N, Rest...: indexing checks the bound of each
// dimension (an index past one row would otherwise silently read the next).
template <class T, long long N, long long... Rest>
struct shared_view {
    T* p;
    const char* name;
    const void* base;
    EMU_SHARED_INLINE decltype(auto) operator[](long long i) const {
        if (i < 0 || i >= N) {
            fail("__shared__ " + std::string(name) + ": index " + std::to_string(i) +
                 " is outside [0, " + std::to_string(N) + ")");
            i = 0;   // go on with a harmless element; the launch reports the error
        }
        if constexpr (sizeof...(Rest) == 0) return element(p + i, name, base);
        else return shared_view<T, Rest...>{p + i * (Rest * ...), name, base};
    }
};

// `__shared__ T name[A][B];` becomes `static emu::shared_array<T, A, B> name{"name"};`: one
// copy for the (single, current) block, registered so that each block starts poisoned.
template <class T, long long... Dims>
struct shared_array {
    T data[(Dims * ...)];
    const char* name;
    explicit shared_array(const char* n) : name(n) {
        shared_regions.push_back({data, sizeof data});
        std::memset(data, POISON, sizeof data);
    }
    EMU_SHARED_INLINE decltype(auto) operator[](long long i) { return shared_view<T, Dims...>{data, name, data}[i]; }
};

// ---- the launch -----------------------------------------------------------------------------
void end_of_interval() {   // every thread of the block finished or waits at a barrier
#if defined(EMU_MEMSTATS)
    close_accesses();
#endif
}

void syncthreads(int line) {
    Fiber& f = fibers[thread_linear];
    f.state = State::at_barrier;
    f.barrier_line = line;
    to_scheduler(f, false);
}

// Run one block: every thread until it finishes or waits at a barrier, then release them.
void run_block(unsigned threads) {
    for (unsigned t = 0; t < threads; ++t) {
        Fiber& f = fibers[t];
#if defined(__SANITIZE_ADDRESS__)
        ASAN_UNPOISON_MEMORY_REGION(f.stack, STACK_BYTES);   // frames a diverged block left
#endif
        prepare(f.ctx, f.stack, fiber_main);
        f.state = State::ready;
    }
    for (epoch = 0;; ++epoch) {
        for (unsigned t = 0; t < threads; ++t) {
            if (fibers[t].state != State::ready) continue;
            thread_linear = t;
            thread_idx = unflatten(t, block_dim);
            to_fiber(fibers[t]);
        }
        end_of_interval();
        unsigned waiting = 0, line = 0;
        for (unsigned t = 0; t < threads; ++t) {
            if (fibers[t].state != State::at_barrier) continue;
            if (waiting++ == 0) {
                line = fibers[t].barrier_line;
            } else if (fibers[t].barrier_line != static_cast<int>(line)) {
                thread_linear = t;
                fail("waits at the __syncthreads() of line " +
                     std::to_string(fibers[t].barrier_line) + " while other threads wait at "
                     "line " + std::to_string(line) + " (a divergent barrier)");
                return;
            }
        }
        if (waiting == 0) return;                       // every thread finished
        if (waiting < threads) {
            for (unsigned t = 0; t < threads; ++t)
                if (fibers[t].state == State::done) { thread_linear = t; break; }
            fail("finished while " + std::to_string(waiting) + " of the block's " +
                 std::to_string(threads) + " threads wait at the __syncthreads() of line " +
                 std::to_string(line) + " (a divergent barrier: a GPU would hang or misbehave)");
            return;
        }
        for (unsigned t = 0; t < threads; ++t) fibers[t].state = State::ready;
    }
}

// Run the grid, block after block; returns the first error, or nullptr.
const char* launch(dim3 grid, dim3 block, const std::function<void()>& body) {
    grid_dim = grid;
    block_dim = block;
    error.clear();
    kernel_body = &body;
    const unsigned threads = block.x * block.y * block.z;
    const unsigned long long blocks = 1ull * grid.x * grid.y * grid.z;
    while (fibers.size() < threads) {
        Fiber f;
        void* s = mmap(nullptr, STACK_BYTES, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (s == MAP_FAILED) return "could not map a fiber stack";
        f.stack = static_cast<char*>(s);
        fibers.push_back(f);
    }
#if defined(EMU_RACECHECK)
    global_cells.clear();
#endif
#if defined(EMU_MEMSTATS)
    open_accesses.clear();      // what a failed launch left
    executions.clear();
#endif
    for (unsigned long long b = 0; b < blocks && error.empty(); ++b) {
        block_linear = static_cast<unsigned>(b);
        block_idx = unflatten(block_linear, grid);
        poison_shared();
#if defined(EMU_RACECHECK)
        shared_cells.clear();
        uninitialised_read.clear();
#endif
        run_block(threads);
#if defined(EMU_RACECHECK)
        if (error.empty()) error = uninitialised_read;
#endif
#if defined(EMU_MEMSTATS)
        executions.clear();
#endif
    }
    kernel_body = nullptr;
    return error.empty() ? nullptr : error.c_str();
}

}  // namespace
}  // namespace emu

extern "C" __attribute__((visibility("default"))) void emu_name_buffer(const char* name,
                                                                      const void* begin,
                                                                      std::size_t bytes) {
    auto b = reinterpret_cast<std::uintptr_t>(begin);
    emu::buffers.push_back({name, b, b + bytes});
}
extern "C" __attribute__((visibility("default"))) void emu_clear_buffers() { emu::buffers.clear(); }

#if defined(EMU_MEMSTATS)
#include <dlfcn.h>
// The access sites counted since the last emu_memstats_clear(), first seen first: site i's
// numbers go to out[0..7] (offset of its instruction in this library, write, shared,
// warp accesses, sectors or bank passes summed, the most of one access, thread accesses,
// bytes), its argument's or array's name to *name. Returns false past the last site.
extern "C" __attribute__((visibility("default"))) bool emu_memstats_site(
        unsigned i, unsigned long long* out, const char** name) {
    if (i >= emu::site_order.size()) return false;
    const void* site = emu::site_order[i];
    const emu::SiteStats& s = emu::site_stats[site];
    Dl_info info{};
    dladdr(site, &info);
    out[0] = reinterpret_cast<std::uintptr_t>(site) - reinterpret_cast<std::uintptr_t>(info.dli_fbase);
    out[1] = s.write, out[2] = s.shared, out[3] = s.accesses, out[4] = s.units, out[5] = s.most;
    out[6] = s.lanes, out[7] = s.bytes;
    *name = s.name.c_str();
    return true;
}
extern "C" __attribute__((visibility("default"))) void emu_memstats_clear() {
    emu::site_stats.clear();
    emu::site_order.clear();
}
#define __device__ __attribute__((always_inline))   // each access site its own instruction
#define __forceinline__ inline
#else
#define __device__
#define __forceinline__ inline
#endif

#define threadIdx emu::thread_idx
#define blockIdx emu::block_idx
#define blockDim emu::block_dim
#define gridDim emu::grid_dim
#define __global__
#define __syncthreads() emu::syncthreads(__LINE__)
using std::max;
using std::min;
