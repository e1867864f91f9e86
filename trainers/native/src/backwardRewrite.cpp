// The frozen-weight backward as a matrix multiplication, and each product in the kernel that suits its shape
// (docs/native.md, "The backward").
//
// ggml's autodiff differentiates y = mul_mat(W, x) with two OUT_PROD nodes: dW = out_prod(x, dy) and
// dx = out_prod(W, transpose(dy)). With
//     out_prod(a, b)[i, j] = Σ_k a[i, k]·b[j, k]  =  mul_mat(aᵀ, bᵀ)[i, j]     (a [n, K], b [p, K] → [n, p])
// each OUT_PROD is rewritten by the length K of its contraction:
//   1. a is a frozen weight (dx through W): mul_mat(Wᵀ, dy) — ggml's CPU out_prod is an axpy loop (2.5× the
//      forward for f32 W, 7–27× for quantized or f16 W) and ggml-vulkan's OUT_PROD takes contiguous sources only.
//      Wᵀ of a layer weight is made inside the graph, when the backward reaches it, and freed after use (no
//      second copy of the model): cont(transpose(W)) for f32 W; for quantized or f16 W, get_rows of every row
//      (dequantizes, on every backend) → cont(transpose) → on the CPU q8_0 again (the fast quantized kernels;
//      f16 when n_out is not a multiple of 32), on a GPU the f32 copy. The output head's Wᵀ is stored at load
//      (model.transposed): its in-graph copy would be as large as the head.
//   2. K short (< 64: a LoRA rank): out_prod stays — n·p·K multiply-adds as K axpys per output row, where a
//      matrix kernel would waste its tiles on K; a transposed b is made contiguous (Vulkan), and when a's rows
//      are very short (n < 32, a rank) the product is taken as out_prod(b, a)ᵀ, whose axpys are p long.
//   3. b = transpose(dy) (dx through activations or LoRA B, K long): mul_mat(cont(aᵀ), dy).
//   4. Both contiguous, K long (a weight's gradient x·dyᵀ, attention's dK, dV): out_prod, swapped as in 2.
// On the CPU the forward's mul_mats with a short contraction (LoRA's B·(A·x), K = r) become out_prods the same
// way: ggml's CPU matrix kernels need K ≥ 16 and fall back to one dot product per output element.
// The nodes the roots need are gathered, rewritten — a rewritten node keeps its identity (its consumers need no
// change) — and the graph is rebuilt from the roots so that the new operands come before it.
//
// A quantized or f16 Wᵀ makes mul_mat round dy too (q8_0 blocks with an f16 scale, or f16 values), and gradients
// are small numbers: an f16 scale underflows below ~6e-8. So dy is first divided by its RMS s (a scalar computed
// in the graph) and the product multiplied by s: dx = s · mul_mat(Wᵀ, dy / s). With f32 operands the product is
// computed as it is; rewritten mul_mats ask for f32 accumulation (GPU backends would round gradients to f16).
#include "backwardRewrite.h"

#include <algorithm>
#include <cstring>
#include <functional>

#include "cpuBlas.h"

namespace glrl {

namespace {

constexpr int64_t SHORT_K = 64;

ggml_tensor * transposed_copy(ggml_context * ctx, ggml_tensor * t) {
    if (t->op == GGML_OP_TRANSPOSE && ggml_is_contiguous(t->src[0])) return t->src[0];
    return ggml_cont(ctx, ggml_transpose(ctx, t));
}

ggml_tensor * contiguous(ggml_context * ctx, ggml_tensor * t) { return ggml_is_contiguous(t) ? t : ggml_cont(ctx, t); }

// node := out_prod(a, b), as it is or — when a's rows are very short (a LoRA rank) and b's longer — as
// out_prod(b, a)ᵀ, whose axpys run over p instead of n (one transposed copy of the small result).
void as_out_prod(ggml_context * ctx, ggml_tensor * node, ggml_tensor * a, ggml_tensor * b) {
    const bool same_batch = a->ne[2] == b->ne[2] && a->ne[3] == b->ne[3];
    if (a->ne[0] < 32 && a->ne[0] < b->ne[0] && same_batch) {
        node->op = GGML_OP_CONT;
        node->src[0] = ggml_transpose(ctx, ggml_out_prod(ctx, b, a));   // [p, n]ᵀ
        node->src[1] = nullptr;
    } else {
        node->op = GGML_OP_OUT_PROD;
        node->src[0] = a;
        node->src[1] = b;
    }
}

// node := mul_mat(at, bt) with f32 accumulation; through dy/s when at is quantized or f16.
void as_mul_mat(ggml_context * ctx, ggml_tensor * node, ggml_tensor * at, ggml_tensor * bt) {
    if (at->type == GGML_TYPE_F32) {
        node->op = GGML_OP_MUL_MAT;
        node->src[0] = at;
        node->src[1] = bt;
        ggml_prec_set_acc(node, GGML_PREC_F32);
        return;
    }
    if (bt->ne[0] < 64 * bt->ne[1] || bt->ne[2] != 1 || bt->ne[3] != 1) {
        // s = √(mean(bt²) + 1e-30): a zero gradient stays zero instead of 0/0.
        ggml_tensor * s = ggml_sqrt(ctx, ggml_scale_bias(ctx, ggml_sum(ctx, ggml_sqr(ctx, bt)), 1.0f / (float) ggml_nelements(bt), 1e-30f));
        ggml_tensor * product = ggml_mul_mat(ctx, at, ggml_div(ctx, bt, s));   // [n, p]
        ggml_prec_set_acc(product, GGML_PREC_F32);
        node->op = GGML_OP_MUL;
        node->src[0] = product;
        node->src[1] = s;
        return;
    }
    // A tall bt (the head's [V, M] logit gradients: 78 MB for a 0.5B model at M = 128) is scaled per column, with
    // one temporary instead of two: u = rms_norm(bt) = bt[:, m] / s_m, and s_m = (bt[:, m]·u[:, m]) / K, the
    // diagonal of the [p, p] product mul_mat(u, bt) (p²·K multiply-adds: small next to n·p·K when K ≥ 64·p).
    ggml_tensor * u = ggml_rms_norm(ctx, bt, 1e-30f);                                          // [K, p]
    ggml_tensor * gram = ggml_mul_mat(ctx, u, bt);                                             // [p, p]
    ggml_prec_set_acc(gram, GGML_PREC_F32);
    ggml_tensor * diag = ggml_view_2d(ctx, gram, 1, gram->ne[1], (gram->ne[0] + 1) * sizeof(float), 0);   // [1, p]
    ggml_tensor * s = ggml_scale(ctx, ggml_cont(ctx, diag), 1.0f / (float) bt->ne[0]);          // [1, p]
    ggml_tensor * product = ggml_mul_mat(ctx, at, u);                                          // [n, p]
    ggml_prec_set_acc(product, GGML_PREC_F32);
    node->op = GGML_OP_MUL;
    node->src[0] = product;
    node->src[1] = s;
}

// Wᵀ [n_out, n_in] of a frozen layer weight W [n_in, n_out], made in the graph.
ggml_tensor * transpose_in_graph(ggml_context * ctx, ggml_tensor * w, ggml_tensor * arange, bool cpu) {
    if (w->type == GGML_TYPE_F32) return ggml_cont(ctx, ggml_transpose(ctx, w));
    ggml_tensor * rows = ggml_view_1d(ctx, arange, w->ne[1], 0);
    ggml_tensor * t = ggml_cont(ctx, ggml_transpose(ctx, ggml_get_rows(ctx, w, rows)));   // [n_out, n_in] f32
    if (!cpu) return t;
    // ggml_cast, not ggml_cpy into a new tensor: that tensor would be a leaf, allocated for the whole graph.
    return ggml_cast(ctx, t, t->ne[0] % 32 == 0 ? GGML_TYPE_Q8_0 : GGML_TYPE_F16);
}

}  // namespace

void recompute_in_backward(ggml_context * ctx, ggml_cgraph * graph, int n_forward) {
    std::unordered_set<const ggml_tensor *> forward;
    for (int i = 0; i < n_forward; ++i) forward.insert(ggml_graph_node(graph, i));
    std::unordered_map<const ggml_tensor *, ggml_tensor *> again;
    for (int i = n_forward; i < ggml_graph_n_nodes(graph); ++i) {
        for (ggml_tensor *& src : ggml_graph_node(graph, i)->src) {
            if (!src || src->op != GGML_OP_GLU || !src->src[1] || !forward.count(src)) continue;
            auto it = again.find(src);
            if (it == again.end()) it = again.emplace(src, ggml_glu_split(ctx, src->src[0], src->src[1], ggml_get_glu_op(src))).first;
            src = it->second;
        }
    }
}

void recompute_layers(ggml_context * ctx, ggml_cgraph * graph, int n_forward, const std::vector<ggml_tensor *> & checkpoints) {
    std::unordered_map<const ggml_tensor *, int> index;
    for (int i = 0; i < n_forward; ++i) index[ggml_graph_node(graph, i)] = i;
    int first = n_forward, last = -1;
    for (const ggml_tensor * c : checkpoints) {
        auto it = index.find(c);
        if (it == index.end()) continue;
        first = std::min(first, it->second);
        last = std::max(last, it->second);
    }
    if (last < 0) return;
    const std::unordered_set<const ggml_tensor *> kept(checkpoints.begin(), checkpoints.end());
    std::unordered_map<const ggml_tensor *, ggml_tensor *> copies;
    std::function<ggml_tensor *(ggml_tensor *)> again;
    // Sources of `to` = again(sources of `from`). A view's view_src is its chain's root, not its parent: the root
    // is taken from the source that shares it (src[0] for view ops, src[1] for cpy), so that a copied root is
    // always reached through the sources (else the scheduler never places it).
    auto relink = [&](ggml_tensor * to, const ggml_tensor * from) {
        ggml_tensor * const * before = from->src;
        ggml_tensor * sources[GGML_MAX_SRC];
        for (int s = 0; s < GGML_MAX_SRC; ++s) sources[s] = again(before[s]);
        if (from->view_src) {
            int shared = -1;
            for (int s = 0; s < GGML_MAX_SRC && shared < 0; ++s) {
                if (before[s] && (before[s]->view_src ? before[s]->view_src : before[s]) == from->view_src) shared = s;
            }
            to->view_src = shared >= 0 ? (sources[shared]->view_src ? sources[shared]->view_src : sources[shared]) : from->view_src;
        }
        std::copy(std::begin(sources), std::end(sources), std::begin(to->src));
    };
    again = [&](ggml_tensor * t) -> ggml_tensor * {
        // Trained parameters are graph nodes with op NONE (ggml lists them so): they, and anything already holding
        // memory, stay.
        if (!t || kept.count(t) || t->op == GGML_OP_NONE || t->buffer || t->data) return t;
        auto it = index.find(t);
        if (it == index.end() || it->second <= first || it->second > last) return t;
        auto done = copies.find(t);
        if (done != copies.end()) return done->second;
        ggml_tensor * r = ggml_new_tensor(ctx, t->type, GGML_MAX_DIMS, t->ne);
        std::memcpy(r->nb, t->nb, sizeof(t->nb));
        r->op = t->op;
        std::memcpy(r->op_params, t->op_params, sizeof(t->op_params));
        r->flags = t->flags & ~(GGML_TENSOR_FLAG_OUTPUT | GGML_TENSOR_FLAG_PARAM | GGML_TENSOR_FLAG_LOSS);
        r->view_offs = t->view_offs;
        ggml_format_name(r, "%.50s (again)", t->name);
        copies.emplace(t, r);
        relink(r, t);
        return r;
    };
    for (int i = n_forward; i < ggml_graph_n_nodes(graph); ++i) {
        ggml_tensor * node = ggml_graph_node(graph, i);
        ggml_tensor saved = *node;
        relink(node, &saved);
    }
}

ggml_cgraph * rewrite_backward(ggml_context * ctx, const std::vector<ggml_tensor *> & roots, const FrozenWeights & frozen,
                               size_t graph_size, ProductTarget target) {
    const bool cpu = target != ProductTarget::gpu;
    ggml_cgraph * graph = ggml_new_graph_custom(ctx, graph_size, /*grads =*/ false);
    for (ggml_tensor * root : roots) {
        if (root) ggml_build_forward_expand(graph, root);
    }
    const int n = ggml_graph_n_nodes(graph);
    for (int i = 0; i < n; ++i) {
        ggml_tensor * node = ggml_graph_node(graph, i);
        // ggml-alloc may compute these in place over a source whose last use they are, and the CPU kernels are
        // wrong then (gradients off against finite differences): soft_max_back copies dy over dx before reading y
        // (src[1]), rms_norm_back copies x over dx before reading dz (src[0]). Those sources are kept alive.
        if (node->op == GGML_OP_SOFT_MAX_BACK && node->src[1]) ggml_set_output(node->src[1]);
        if (node->op == GGML_OP_RMS_NORM_BACK && node->src[0]) ggml_set_output(node->src[0]);
        if (target == ProductTarget::cpu_blas && cpu_blas_takes(node)) {
            as_cpu_blas(ctx, node);   // f32 W: dx = dy · W straight from W's memory, no Wᵀ
            continue;
        }
        if (cpu && node->op == GGML_OP_MUL_MAT && node->src[0]->type == GGML_TYPE_F32 && node->src[0]->ne[0] < 16 &&
            node->src[0]->ne[2] == 1 && node->src[0]->ne[3] == 1 && node->src[1]->ne[2] == 1 && node->src[1]->ne[3] == 1) {
            // mul_mat(a [K, n], b [K, p]) = out_prod(aᵀ, bᵀ), K short.
            ggml_tensor * a = node->src[0];
            ggml_tensor * b = node->src[1];
            as_out_prod(ctx, node, ggml_cont(ctx, ggml_transpose(ctx, a)), ggml_cont(ctx, ggml_transpose(ctx, b)));
            continue;
        }
        if (node->op != GGML_OP_OUT_PROD) continue;
        ggml_tensor * a = node->src[0];
        ggml_tensor * b = node->src[1];
        const int64_t k = a->ne[1];
        auto stored = frozen.stored.find(a);
        const bool b_transposed = b->op == GGML_OP_TRANSPOSE && ggml_is_contiguous(b->src[0]);
        if (stored != frozen.stored.end()) {
            as_mul_mat(ctx, node, stored->second, transposed_copy(ctx, b));
        } else if (frozen.in_graph.count(a)) {
            as_mul_mat(ctx, node, transpose_in_graph(ctx, a, frozen.arange, cpu), transposed_copy(ctx, b));
        } else if (k < SHORT_K) {
            as_out_prod(ctx, node, contiguous(ctx, a), contiguous(ctx, b));
        } else if (b_transposed) {
            as_mul_mat(ctx, node, transposed_copy(ctx, a), b->src[0]);
        } else {
            as_out_prod(ctx, node, contiguous(ctx, a), contiguous(ctx, b));
        }
    }
    // Rebuilt from the roots, in the order given: with the gradients of the last layer's tensors first, each
    // layer's weight gradients are computed as soon as the backward reaches it and its activations die early.
    ggml_cgraph * out = ggml_new_graph_custom(ctx, graph_size, /*grads =*/ false);
    for (ggml_tensor * root : roots) {
        if (root) ggml_build_forward_expand(out, root);
    }
    return out;
}

}  // namespace glrl
