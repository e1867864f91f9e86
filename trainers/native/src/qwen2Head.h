// The output head in chunks of positions: log-probs, and d objective / d h written out (qwen2Head.cpp).
#pragma once

#include <cstdint>
#include <vector>

#include "ggml.h"

namespace glrl {

// Positions [first, first + count) of the M that the head scores.
struct HeadChunk {
    int64_t first = 0, count = 0;
    ggml_tensor * h = nullptr;         // [E, m] the head's input at these positions (a view)
    ggml_tensor * targets = nullptr;   // [m] I32: target token + V·(position − first) (a view of the input)
    ggml_tensor * probs = nullptr;     // [V, m] softmax(W·h / T)
    ggml_tensor * picked = nullptr;    // [1, m] the targets' probabilities
    ggml_tensor * logprobs = nullptr;  // [m]
    ggml_tensor * dz = nullptr;        // [V, m] p − onehot(y), over probs (build_head_backward)
    ggml_tensor * scale = nullptr;     // [1, m] −c/T: d objective / d logits = dz·scale
    ggml_tensor * grad = nullptr;      // [E, m] d objective / d h (build_head_backward)
};

struct Head {
    ggml_tensor * weight = nullptr;    // W [E, V]
    float temperature = 1.0f;
    std::vector<HeadChunk> chunks;
    ggml_tensor * logprobs = nullptr;  // [M], every chunk's
};

// Positions per chunk at most, by default: as many as keep one [V, m] f32 tensor within `budget` bytes.
int64_t default_head_chunk(int64_t n_vocab, int64_t budget);

// Chunk length for M positions and at most `max_chunk` per chunk: the fewest chunks, of equal length.
int64_t balanced_head_chunk(int64_t n_positions, int64_t max_chunk);

// The targets input: token + V·(m mod chunk), the flat index into its chunk's [V, m] probabilities.
std::vector<int32_t> head_targets(const std::vector<int32_t> & tokens, int64_t n_vocab, int64_t chunk);

// log p of every target: h [E, M], targets [M] (head_targets), `chunk` positions at a time.
Head build_head(ggml_context * ctx, ggml_tensor * weight, ggml_tensor * h, ggml_tensor * targets, float temperature, int64_t chunk);

// d/dh of Σ_m c_m·log p_m(y_m), chunk by chunk: (Wᵀ·(p − onehot(y)))·(−c/T), the product as ggml's autodiff
// writes a frozen one (out_prod(W, dzᵀ)) so that the backward rewrite computes it. `recompute`: the chunk's probabilities are
// computed again (the forward's were freed: the coefficients came after every chunk's log-probs).
void build_head_backward(ggml_context * ctx, Head & head, ggml_tensor * coefficients, bool recompute);

// The chunks' gradients side by side, [E, M].
ggml_tensor * head_input_grad(ggml_context * ctx, const Head & head);

// A trained head (trainable "all"): adds d objective / d W = Σ_chunks out_prod(h, dz) [E, V] into `acc` (the weight's
// gradient accumulator, or the autodiff's last in-place addition to it) in place; returns the last addition.
ggml_tensor * add_head_weight_grad(ggml_context * ctx, const Head & head, ggml_tensor * acc);

}  // namespace glrl
