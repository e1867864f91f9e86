// A Qwen2 / Qwen3-dense causal LM held in ggml tensors for training: frozen weights dequantized to f32,
// optional LoRA A/B pairs, gradient buffers and AdamW moments for whatever is trainable.
// Plain C++ (no N-API): the addon layer (AddonPolicy.cpp) wraps it.
//
// Letters: B = sequences in a batch, T_b = tokens of sequence b, T = max T_b (the padded length),
// M = Σ completion tokens (the positions the loss needs), V = vocabulary, E = n_embd.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "ggml.h"
#include "ggml-backend.h"
#include "gguf.h"

namespace glrl {

// An error with a stable code ("native.gguf", "native.shape", "native.input", …); the addon turns it into a
// rejected Promise whose `code` the TS layer maps onto NativeError.
struct NativeFailure : std::runtime_error {
    std::string code;
    NativeFailure(std::string code_, const std::string & message) : std::runtime_error(message), code(std::move(code_)) {}
};

struct Qwen2Hparams {
    std::string architecture;  // "qwen2" | "qwen3"
    int n_layer = 0;
    int n_embd = 0;
    int n_head = 0;
    int n_head_kv = 0;
    int head_dim = 0;          // attention.key_length, else n_embd / n_head
    int n_ff = 0;
    int n_ctx_train = 0;
    int n_vocab = 0;
    float rope_freq_base = 10000.0f;
    float rms_eps = 1e-6f;
    bool tied_output = true;
};

struct Qwen2Layer {
    ggml_tensor * attn_norm = nullptr;                                  // [E]
    ggml_tensor * wq = nullptr, * wk = nullptr, * wv = nullptr;         // [E, H·D], [E, Hkv·D], [E, Hkv·D]
    ggml_tensor * bq = nullptr, * bk = nullptr, * bv = nullptr;         // biases (qwen2 only)
    ggml_tensor * q_norm = nullptr, * k_norm = nullptr;                 // [D] (qwen3 only)
    ggml_tensor * wo = nullptr;                                         // [H·D, E]
    ggml_tensor * ffn_norm = nullptr;                                   // [E]
    ggml_tensor * w_gate = nullptr, * w_up = nullptr;                   // [E, F]
    ggml_tensor * w_down = nullptr;                                     // [F, E]
};

// One LoRA pair on a weight W [n_in, n_out]: W·x + scale·B·(A·x), A [n_in, r], B [r, n_out] (ggml order).
struct LoraPair {
    std::string target;   // "attn_q", "attn_k", "attn_v", "attn_output", "ffn_gate", "ffn_up", "ffn_down"
    int layer = 0;
    ggml_tensor * a = nullptr;
    ggml_tensor * b = nullptr;
};

struct LoraOptions {
    int rank = 8;
    float alpha = 16.0f;
    std::vector<std::string> targets = {"attn_q", "attn_k", "attn_v", "attn_output", "ffn_gate", "ffn_up", "ffn_down"};
    uint64_t seed = 42;
    float dropout = 0.0f;   // PEFT's lora_dropout on the LoRA branch input, in accumulate() only (logprobs() = eval)
    std::string init_path;  // optional: start from this GGUF adapter instead of A ~ Kaiming-uniform, B = 0
};

struct ModelOptions {
    std::string model_path;
    std::string trainable = "lora";   // "lora" | "all"
    LoraOptions lora;
    int n_threads = 2;
    std::string ggml_bins_dir;        // where node-llama-cpp's CPU backend variants live
};

struct SequenceInput {
    std::vector<int32_t> tokens;      // [T_b]
    int completion_start = 1;         // log-probs cover tokens[completion_start..]
};

struct AdamWOptions {
    float learning_rate = 1e-4f, max_grad_norm = 1.0f, weight_decay = 0.0f;
    float beta1 = 0.9f, beta2 = 0.999f, epsilon = 1e-8f;
};

// One trainable tensor: the weight (in the backend buffer), its accumulated gradient and AdamW moments (host).
struct TrainableTensor {
    ggml_tensor * tensor = nullptr;
    std::vector<float> grad, m, v;
};

class Qwen2Model {
public:
    explicit Qwen2Model(const ModelOptions & options);
    ~Qwen2Model();
    Qwen2Model(const Qwen2Model &) = delete;
    Qwen2Model & operator=(const Qwen2Model &) = delete;

    const Qwen2Hparams & hparams() const { return hp_; }
    const std::string & trainable() const { return options_.trainable; }
    int64_t trainable_parameter_count() const;
    int64_t step_count() const { return step_; }

    // log π(y_t | y_<t) / T of every completion token, [B][C_b]. reference = LoRA off.
    std::vector<std::vector<float>> logprobs(const std::vector<SequenceInput> & batch, bool reference, float temperature);
    // Adds ∇ Σ c·log π to the gradient buffers; returns Σ c·log π and the log-probs.
    double accumulate(const std::vector<SequenceInput> & batch, const std::vector<std::vector<float>> & coefficients,
                      float temperature, std::vector<std::vector<float>> & logprobs_out);
    // Global-norm clip, AdamW, zero the gradients; returns the pre-clip norm.
    double step(const AdamWOptions & options);
    void zero_grad();

    void save_weights(const std::string & path) const;     // adapter GGUF (lora) or full model GGUF (all)
    void save_checkpoint(const std::string & path) const;  // trainables + AdamW moments + step
    void load_checkpoint(const std::string & path);
    void set_threads(int n_threads);

    // For tests: the trainable tensors by name, their gradient buffers, and raw weight access.
    std::vector<std::string> trainable_names() const;
    std::vector<float> get_tensor(const std::string & name) const;
    void set_tensor(const std::string & name, const std::vector<float> & values);
    std::vector<float> get_grad(const std::string & name) const;

private:
    void load_gguf();
    void create_lora();
    void load_lora_init(const std::string & path);
    ggml_tensor * weight(const std::string & name, std::vector<int64_t> shape, bool required = true);
    ggml_tensor * find_tensor(const std::string & name) const;

    // Builds, allocates and runs one forward(+backward) graph; fills log-probs; with coefficients, adds grads.
    double run_graph(const std::vector<SequenceInput> & batch, const std::vector<std::vector<float>> * coefficients,
                     bool reference, float temperature, std::vector<std::vector<float>> & logprobs_out);

    void free_buffers();

    ModelOptions options_;
    Qwen2Hparams hp_;
    const gguf_context * loading_ = nullptr;   // the file being loaded (load_gguf only)
    ggml_context * lora_ctx_ = nullptr;
    ggml_backend_buffer_t lora_buf_ = nullptr;
    ggml_context * seed_ctx_ = nullptr;           // holds seed_, the objective's gradient accumulator (= 1)
    ggml_backend_buffer_t seed_buf_ = nullptr;
    ggml_tensor * seed_ = nullptr;
    struct ggml_gallocr * galloc_ = nullptr;       // compute-graph allocator, reused by every call
    ggml_backend_t backend_ = nullptr;
    ggml_context * ctx_weights_ = nullptr;
    ggml_backend_buffer_t buf_weights_ = nullptr;

public:
    // Read by the graph builder (qwen2Graph.cpp).
    ggml_tensor * tok_embd = nullptr;      // [E, V]
    ggml_tensor * output_norm = nullptr;   // [E]
    ggml_tensor * output = nullptr;        // [E, V] or nullptr when tied
    std::vector<Qwen2Layer> layers;
    std::vector<LoraPair> lora;
    float lora_scale = 0.0f;               // alpha / rank
    float lora_dropout = 0.0f;

private:
    std::map<std::string, ggml_tensor *> by_name_;
    std::vector<TrainableTensor> trainables_;
    int64_t step_ = 0;
    int64_t calls_in_step_ = 0;   // accumulate() calls since the last step (seeds the dropout masks)
    // Saved for save_weights("all"): the source file's metadata is copied into the new model.
    std::vector<std::string> tensor_order_;
};

// ─── graph building (qwen2Graph.cpp) ─────────────────────────────────────────────────────────────────────────

// Inputs of one batch: B sequences right-padded to T = the longest; one causal mask shared by all.
struct PackedBatch {
    int n_tokens = 0;                 // T
    int n_seqs = 0;                   // B
    std::vector<int32_t> tokens;      // [T·B] — sequence b at b·T.., padded with token 0
    std::vector<int32_t> positions;   // [T·B] — 0..T-1 per sequence
    std::vector<float> mask;          // [T, T] — 0 where key j ≤ query i, -inf otherwise
    std::vector<int32_t> rows;        // [M] — index in [T·B] of the position that predicts each completion token
    std::vector<int32_t> targets;     // [M] — flat index target + V·m into the [V, M] probabilities
    std::vector<int> counts;          // [B] — completion tokens per sequence
};

PackedBatch pack_batch(const std::vector<SequenceInput> & batch, int n_vocab, int n_ctx_max);

struct GraphTensors {
    ggml_tensor * tokens = nullptr, * positions = nullptr, * mask = nullptr, * rows = nullptr, * targets = nullptr;
    ggml_tensor * coefficients = nullptr;  // [M] (training only)
    ggml_tensor * logprobs = nullptr;      // [M]
    ggml_tensor * objective = nullptr;     // scalar Σ c·log p (training only)
    // LoRA dropout masks, one per pair in model.lora order: [n_in, T·B], 0 or 1/(1−p) (training with dropout only)
    std::vector<ggml_tensor *> dropout_masks;
};

// Builds the forward pass (and, with `training`, the scalar objective) into ctx; reference = no LoRA.
GraphTensors build_qwen2_graph(ggml_context * ctx, const Qwen2Model & model, const PackedBatch & packed,
                               bool reference, float temperature, bool training);

}  // namespace glrl
