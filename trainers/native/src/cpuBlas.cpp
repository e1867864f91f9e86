// f32 matrix products as OpenBLAS sgemm calls on the CPU backend's own threads (docs/native.md, "Speed and memory").
//
// ggml's CPU f32 matrix kernel ran the products of a training step at ~25 GFLOP/s per core on the development
// machine, OpenBLAS 0.3.21's sgemm at 80–100 on the same shapes. So on the CPU (and only there) every f32
// MUL_MAT / OUT_PROD large enough becomes a GGML_OP_CUSTOM node whose callback calls sgemm; the graph, its
// scheduler, its allocation and its thread pool stay as they are. OpenBLAS is loaded at run time
// (dlopen "libopenblas.so.0", Debian's libopenblas0): absent, every product stays a ggml kernel.
//
// A 2-D f32 ggml tensor t (ne0 fastest) is the row-major matrix R(t) with ne1 rows and ne0 columns; a transposed
// view (nb1 = 4 bytes) is the transpose of a row-major matrix whose leading dimension is nb0 / 4. Then
//     mul_mat(a [K, n], b [K, p])  = dst [n, p]:   R(dst) = R(b) · R(a)ᵀ        (p × n)
//     out_prod(a [n, K], b [p, K]) = dst [n, p]:   R(dst) = R(b)ᵀ · R(a)
// so the frozen-weight backward dx = out_prod(W, transpose(dy)) is the product dy · W, straight from W's memory:
// no transposed copy of W. Planes (dims 2 and 3) are multiplied one by one, a's plane broadcast as ggml does
// (plane i of the result uses a's plane i / (ne2 / a.ne2)).
//
// Threads: each of the backend's nth threads takes whole planes when they divide evenly, else a slice of every
// plane's result along its longer side (in multiples of 16 columns or rows), and runs a single-threaded sgemm on
// it. OpenBLAS's own thread count is 1: ggml's threads are the parallelism, and nothing else spins.
#include "cpuBlas.h"

#include <dlfcn.h>

#include <algorithm>
#include <cstring>

namespace glrl {

namespace {

enum { ROW_MAJOR = 101, NO_TRANS = 111, TRANS = 112 };   // CBLAS_ORDER / CBLAS_TRANSPOSE values
using SgemmFn = void (*)(int order, int trans_a, int trans_b, int m, int n, int k, float alpha, const float * a, int lda,
                         const float * b, int ldb, float beta, float * c, int ldc);

struct Blas {
    SgemmFn sgemm = nullptr;
    void (*set_threads)(int) = nullptr;
    std::string name;
};

const Blas & blas() {
    static const Blas loaded = [] {
        Blas b;
        void * lib = nullptr;
        for (const char * file : {"libopenblas.so.0", "libopenblas.so", "libopenblas.0.dylib", "libopenblas.dylib"}) {
            if ((lib = dlopen(file, RTLD_NOW | RTLD_LOCAL)) != nullptr) break;
        }
        if (!lib) return b;
        auto sgemm = (SgemmFn) dlsym(lib, "cblas_sgemm");
        auto set_threads = (void (*)(int)) dlsym(lib, "openblas_set_num_threads");
        auto config = (const char * (*)()) dlsym(lib, "openblas_get_config");
        auto core = (const char * (*)()) dlsym(lib, "openblas_get_corename");
        if (!sgemm || !set_threads) return b;   // the library stays loaded with the process either way
        b.sgemm = sgemm;
        b.set_threads = set_threads;
        b.name = config ? config() : "OpenBLAS";
        if (core) b.name += std::string(" (") + core() + ")";
        return b;
    }();
    return loaded;
}

// One plane of R(t): element (r, c) = trans ? p[c·ld + r] : p[r·ld + c].
struct Matrix {
    const float * p = nullptr;
    int64_t ld = 0;
    bool trans = false;
};

bool plane_of(const ggml_tensor * t, int64_t i2, int64_t i3, Matrix & m) {
    const char * base = (const char *) t->data + i2 * t->nb[2] + i3 * t->nb[3];
    if (t->nb[0] == sizeof(float) && t->nb[1] % sizeof(float) == 0 && (int64_t) (t->nb[1] / sizeof(float)) >= t->ne[0]) {
        m = {(const float *) base, (int64_t) (t->nb[1] / sizeof(float)), false};
        return true;
    }
    if (t->nb[1] == sizeof(float) && t->nb[0] % sizeof(float) == 0 && (int64_t) (t->nb[0] / sizeof(float)) >= t->ne[1]) {
        m = {(const float *) base, (int64_t) (t->nb[0] / sizeof(float)), true};
        return true;
    }
    return false;
}

// The callback's tags (userdata): which product the node computes.
int MUL_MAT_TAG = 0, OUT_PROD_TAG = 0;

// C [m × n, ldc] = X [m × k] · Y [k × n], rows [m0, m1) and columns [n0, n1) of it.
void gemm(const Matrix & x, const Matrix & y, float * c, int64_t ldc, int64_t k, int64_t m0, int64_t m1, int64_t n0, int64_t n1) {
    if (m1 <= m0 || n1 <= n0) return;
    // OpenBLAS's OpenMP build takes its thread count from the calling thread's OpenMP setting (every new thread: all
    // cores) and would start an OpenMP team per call, whose threads then spin: set 1 in each thread that calls it.
    thread_local bool single = false;
    if (!single) {
        blas().set_threads(1);
        single = true;
    }
    const float * xp = x.p + (x.trans ? m0 : m0 * x.ld);
    const float * yp = y.p + (y.trans ? n0 * y.ld : n0);
    blas().sgemm(ROW_MAJOR, x.trans ? TRANS : NO_TRANS, y.trans ? TRANS : NO_TRANS, (int) (m1 - m0), (int) (n1 - n0), (int) k,
                 1.0f, xp, (int) x.ld, yp, (int) y.ld, 0.0f, c + m0 * ldc + n0, (int) ldc);
}

void product(ggml_tensor * dst, int ith, int nth, void * userdata) {
    const bool out_prod = userdata == &OUT_PROD_TAG;
    const ggml_tensor * a = dst->src[0];
    const ggml_tensor * b = dst->src[1];
    const int64_t m = dst->ne[1], n = dst->ne[0], k = out_prod ? a->ne[1] : a->ne[0];
    const int64_t planes = dst->ne[2] * dst->ne[3];
    const bool by_plane = planes % nth == 0;
    for (int64_t plane = by_plane ? ith : 0; plane < planes; plane += by_plane ? nth : 1) {
        const int64_t i2 = plane % dst->ne[2], i3 = plane / dst->ne[2];
        Matrix ra, rb;
        plane_of(a, i2 / (dst->ne[2] / a->ne[2]), i3 / (dst->ne[3] / a->ne[3]), ra);
        plane_of(b, i2, i3, rb);
        // mul_mat: X = R(b), Y = R(a)ᵀ;  out_prod: X = R(b)ᵀ, Y = R(a)
        const Matrix x = {rb.p, rb.ld, out_prod ? !rb.trans : rb.trans};
        const Matrix y = {ra.p, ra.ld, out_prod ? ra.trans : !ra.trans};
        float * c = (float *) ((char *) dst->data + i2 * dst->nb[2] + i3 * dst->nb[3]);
        if (by_plane) {
            gemm(x, y, c, n, k, 0, m, 0, n);
            continue;
        }
        const int64_t side = std::max(m, n);
        const int64_t chunk = ((side + nth - 1) / nth + 15) / 16 * 16;
        const int64_t s0 = std::min(side, ith * chunk), s1 = std::min(side, s0 + chunk);
        if (n >= m) gemm(x, y, c, n, k, 0, m, s0, s1);
        else gemm(x, y, c, n, k, s0, s1, 0, n);
    }
}

// Below this many multiply-adds per plane the product stays a ggml kernel (the call and slicing overhead).
constexpr int64_t MIN_MULTIPLY_ADDS = 1 << 15;

}  // namespace

const std::string & cpu_blas_name() { return blas().name; }

bool cpu_blas_takes(const ggml_tensor * node) {
    if (!blas().sgemm || (node->op != GGML_OP_MUL_MAT && node->op != GGML_OP_OUT_PROD)) return false;
    const ggml_tensor * a = node->src[0];
    const ggml_tensor * b = node->src[1];
    if (a->type != GGML_TYPE_F32 || b->type != GGML_TYPE_F32 || node->type != GGML_TYPE_F32) return false;
    if (!ggml_is_contiguous(node) || a->ne[2] == 0 || a->ne[3] == 0) return false;
    if (node->ne[2] % a->ne[2] != 0 || node->ne[3] % a->ne[3] != 0 || b->ne[2] != node->ne[2] || b->ne[3] != node->ne[3]) return false;
    const int64_t k = node->op == GGML_OP_OUT_PROD ? a->ne[1] : a->ne[0];
    if (node->ne[0] * node->ne[1] * k < MIN_MULTIPLY_ADDS || k > INT32_MAX || node->ne[0] > INT32_MAX || node->ne[1] > INT32_MAX) return false;
    // Every plane must be a plain or a transposed matrix (uniform strides: checking the first plane checks all).
    Matrix m;
    return plane_of(a, 0, 0, m) && plane_of(b, 0, 0, m);
}

void as_cpu_blas(ggml_context * ctx, ggml_tensor * node) {
    ggml_tensor * args[2] = {node->src[0], node->src[1]};
    void * tag = node->op == GGML_OP_OUT_PROD ? &OUT_PROD_TAG : &MUL_MAT_TAG;
    // ggml_custom_4d writes the op's parameters (callback, threads, tag) the CPU backend reads; they are copied over.
    ggml_tensor * custom = ggml_custom_4d(ctx, GGML_TYPE_F32, node->ne[0], node->ne[1], node->ne[2], node->ne[3], args, 2,
                                          &product, GGML_N_TASKS_MAX, tag);
    node->op = GGML_OP_CUSTOM;
    std::memcpy(node->op_params, custom->op_params, sizeof(node->op_params));
}

}  // namespace glrl
