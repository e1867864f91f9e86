// The output head — the largest tensors of a training step — scored in chunks of positions (docs/native.md,
// "Speed and memory").
//
// The head's probabilities are [V, M]: 78 MB each for a 151,936-token vocabulary at M = 128, and ggml's autodiff
// kept four such tensors alive at once (probabilities, their gradient, the logits' gradient, its scaled copy).
// Scored in chunks of m positions (one [V, m] f32 tensor within a budget, qwen2Model.h), with the gradient written out:
//   forward, per chunk:  z = W·h_c [V, m];  p = softmax(z / T);  log p of each target = log(p[y])
//   backward, per chunk: d objective / d z = −(c / T)·(p − onehot(y))  (Σ c·log p through softmax(z / T))
//                        dz = p − onehot(y) = set_rows(p, p[y] − 1 at y)  — in place over p
//                        dh_c = (Wᵀ·dz)·(−c/T) per column, Wᵀ·dz = out_prod(W, dzᵀ) (rewritten like any frozen
//                        product); the column scale on the small [E, m] result, not on the [V, m] one
//                        (trainable "all": dW = out_prod(h·(−c/T), dz))
// The caller orders the graph chunk by chunk (log-probs of chunk 0, its gradient, chunk 1, …), so only one
// chunk's [V, m] tensors live at a time. With a coefficient function the backward waits for every chunk's
// log-probs; the probabilities are then computed again per chunk rather than kept (`recompute`).
// dz is formed in f32 before the product (a quantized Wᵀ rounds its operand: p − onehot must not be rounded
// as two terms).
#include "qwen2Head.h"

#include <algorithm>

namespace glrl {

namespace {

ggml_tensor * probabilities(ggml_context * ctx, const Head & head, ggml_tensor * h) {
    ggml_tensor * logits = ggml_mul_mat(ctx, head.weight, h);                            // [V, m]
    return ggml_soft_max_ext(ctx, logits, nullptr, 1.0f / head.temperature, 0.0f);      // [V, m]
}

}  // namespace

int64_t default_head_chunk(int64_t n_vocab, int64_t budget) {
    return std::max<int64_t>(1, budget / (n_vocab * (int64_t) sizeof(float)));
}

int64_t balanced_head_chunk(int64_t n_positions, int64_t max_chunk) {
    const int64_t chunks = std::max<int64_t>(1, (n_positions + max_chunk - 1) / max_chunk);
    return std::max<int64_t>(1, (n_positions + chunks - 1) / chunks);
}

std::vector<int32_t> head_targets(const std::vector<int32_t> & tokens, int64_t n_vocab, int64_t chunk) {
    std::vector<int32_t> flat(tokens.size());
    for (size_t m = 0; m < tokens.size(); ++m) flat[m] = (int32_t) (tokens[m] + n_vocab * ((int64_t) m % chunk));
    return flat;
}

Head build_head(ggml_context * ctx, ggml_tensor * weight, ggml_tensor * h, ggml_tensor * targets, float temperature, int64_t chunk) {
    Head head;
    head.weight = weight;
    head.temperature = temperature;
    const int64_t V = weight->ne[1], M = h->ne[1];
    for (int64_t first = 0; first < M; first += chunk) {
        HeadChunk c;
        c.first = first;
        c.count = std::min(chunk, M - first);
        c.h = ggml_view_2d(ctx, h, h->ne[0], c.count, h->nb[1], (size_t) first * h->nb[1]);
        c.targets = ggml_view_1d(ctx, targets, c.count, (size_t) first * ggml_element_size(targets));
        c.probs = probabilities(ctx, head, c.h);
        c.picked = ggml_get_rows(ctx, ggml_reshape_2d(ctx, c.probs, 1, V * c.count), c.targets);   // [1, m]
        c.logprobs = ggml_log(ctx, ggml_reshape_1d(ctx, c.picked, c.count));                     // [m]
        head.logprobs = head.logprobs ? ggml_concat(ctx, head.logprobs, c.logprobs, 0) : c.logprobs;
        head.chunks.push_back(c);
    }
    return head;
}

void build_head_backward(ggml_context * ctx, Head & head, ggml_tensor * coefficients, bool recompute) {
    const int64_t V = head.weight->ne[1];
    for (HeadChunk & c : head.chunks) {
        ggml_tensor * p = recompute ? probabilities(ctx, head, c.h) : c.probs;                 // [V, m]
        // p − onehot(y), written over p (the forward has read p[y] already)
        ggml_tensor * dz = ggml_set_rows(ctx, ggml_reshape_2d(ctx, p, 1, V * c.count), ggml_scale_bias(ctx, c.picked, 1.0f, -1.0f), c.targets);
        c.dz = ggml_reshape_2d(ctx, dz, V, c.count);
        ggml_tensor * cs = ggml_view_1d(ctx, coefficients, c.count, (size_t) c.first * sizeof(float));
        c.scale = ggml_reshape_2d(ctx, ggml_scale(ctx, cs, -1.0f / head.temperature), 1, c.count);   // −c/T  [1, m]
        c.grad = ggml_mul(ctx, ggml_out_prod(ctx, head.weight, ggml_transpose(ctx, c.dz)), c.scale);   // [E, m]
    }
}

ggml_tensor * head_input_grad(ggml_context * ctx, const Head & head) {
    ggml_tensor * grad = nullptr;
    for (const HeadChunk & c : head.chunks) grad = grad ? ggml_concat(ctx, grad, c.grad, 1) : c.grad;
    return ggml_cont(ctx, grad);   // a node of its own (the caller hands it to the autodiff's placeholder)
}

ggml_tensor * add_head_weight_grad(ggml_context * ctx, const Head & head, ggml_tensor * acc) {
    for (const HeadChunk & c : head.chunks) acc = ggml_add_inplace(ctx, acc, ggml_out_prod(ctx, ggml_mul(ctx, c.h, c.scale), c.dz));   // [E, V]
    return acc;
}

}  // namespace glrl
