// Packing a batch into rows, and the Qwen2 / Qwen3-dense training graph (qwen2Graph.cpp).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "qwen2Head.h"
#include "qwen2Model.h"

namespace glrl {

// How sequences that share a prompt (identical tokens[0:completionStart]) are laid out.
enum class PromptSharing {
    never,    // one row per sequence
    always,   // one row per prompt: the prompt once, then every completion
    cheaper,  // whichever of the two the cost model says is cheaper (the default)
};

// Inputs of one call: B sequences in R rows of T tokens (right-padded). A row holds one sequence, or a shared
// prompt followed by the completions of every sequence with that prompt; a block-causal mask lets each
// completion see the prompt and its own earlier tokens, and positions continue from the prompt in each.
struct PackedBatch {
    int n_tokens = 0;                 // T
    int n_rows = 0;                   // R
    bool shared = false;              // some row holds more than one sequence
    std::vector<int32_t> tokens;      // [T·R] — row r at r·T.., padded with token 0
    std::vector<int32_t> positions;   // [T·R]
    std::vector<float> mask;          // [T keys, T queries, 1, R] — 0 where the query sees the key, −inf elsewhere
    std::vector<int32_t> rows;        // [M] — index in [T·R] of the position that predicts each completion token
    std::vector<int32_t> targets;     // [M] — the completion tokens (the graph's input holds head_targets of them)
    std::vector<int> counts;          // [B] — completion tokens per sequence (log-probs come out in batch order)
};

PackedBatch pack_batch(const std::vector<SequenceInput> & batch, const Qwen2Hparams & hp, PromptSharing sharing);

struct GraphTensors {
    ggml_tensor * tokens = nullptr, * positions = nullptr, * mask = nullptr, * rows = nullptr, * targets = nullptr;
    ggml_tensor * coefficients = nullptr;  // [M] (training only)
    ggml_tensor * logprobs = nullptr;      // [M]
    ggml_tensor * objective = nullptr;     // scalar Σ c·log p (training only)
    Head head;                             // the output head, in chunks of positions (qwen2Head.h)
    // Training: the autodiff differentiates loss = Σ h ⊙ head_grad, where h [E, M] is the head's input and
    // head_grad a placeholder that the caller, after the autodiff, turns into d objective / d h
    // (build_head_backward with head_coefficients, then head_input_grad): the head's backward is written out.
    ggml_tensor * loss = nullptr;
    ggml_tensor * head_grad = nullptr;          // [E, M]
    ggml_tensor * head_coefficients = nullptr;  // [M] c, gated on the log-probs when they come from a function
    // LoRA dropout keep-masks, one per pair in model.lora order: [n_in, T·R], 0 or 1, computed on the device from a
    // window of model.dropout_pool (training with dropout only); the branch input is x ⊙ keep / (1 − p)
    std::vector<ggml_tensor *> dropout_masks;
    // Each layer's input and the last layer's output: what activation recompute keeps (backwardRewrite.h).
    std::vector<ggml_tensor *> checkpoints;
    // Every input above, in one list (they are allocated together in a device buffer).
    std::vector<ggml_tensor *> inputs;
};

// Builds the forward pass (and, with `training`, the scalar objective and the loss) into ctx. `pairs`: the LoRA
// applied (model.lora, model.reference_lora, or nullptr for none). `coefficients_late`: the coefficients are set
// after the log-probs are computed (a coefficient function), so everything that reads them must wait for them.
// `head_chunk`: positions the head scores at once (qwen2Head.h).
GraphTensors build_qwen2_graph(ggml_context * ctx, const Qwen2Model & model, const PackedBatch & packed,
                               const std::vector<LoraPair> * pairs, float temperature, bool training, bool coefficients_late,
                               int64_t head_chunk);

}  // namespace glrl
