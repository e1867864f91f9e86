// A Qwen2 / Qwen3-dense causal LM held in ggml tensors for training on one ggml device (CPU, CUDA, Vulkan,
// Metal): frozen weights as the file stores them (f32, f16, q8_0, k-quants …) plus a transposed copy for the
// backward, optional LoRA A/B pairs, and gradients and AdamW moments on the device. Plain C++ (no N-API): the
// addon layer (AddonPolicy.cpp) wraps it. docs/native.md describes the design.
//
// Letters: B = sequences in a batch, R = packed rows, T = tokens per row, M = Σ completion tokens (the
// positions the loss needs), V = vocabulary, E = n_embd.
#pragma once

#include <cmath>
#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "ggml.h"
#include "ggml-backend.h"
#include "backwardRewrite.h"
#include "ggufFile.h"
#include "qwen2Head.h"

namespace glrl {

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
    float rms_eps = 1e-6f;
    bool tied_output = true;
    // RoPE (NEOX) as llama.cpp applies it to qwen2/qwen3, scaling included (none, linear, yarn).
    float rope_freq_base = 10000.0f;
    float rope_freq_scale = 1.0f;   // 1 / rope.scaling.factor
    float rope_ext_factor = 0.0f;   // 1 for YaRN
    float rope_attn_factor = 1.0f;
    float rope_beta_fast = 32.0f, rope_beta_slow = 1.0f;
    int rope_n_ctx_orig = 0;        // rope.scaling.original_context_length, else context_length
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

// rank, alpha and targets: given by the caller, or (with init_path) read from the adapter file — both given and
// different is an error. Unset without a file: r 8, alpha 16, all seven targets.
struct LoraOptions {
    int rank = 0;                      // 0 = unset
    float alpha = NAN;                 // NaN = unset
    std::vector<std::string> targets;  // used when targets_set
    bool targets_set = false;
    uint64_t seed = 42;
    float dropout = 0.0f;   // PEFT's lora_dropout on the LoRA branch input, in accumulate() only (logprobs() = eval)
    std::string init_path;  // optional: start from this GGUF adapter instead of A ~ Kaiming-uniform, B = 0
};

struct ModelOptions {
    std::string model_path;
    std::string trainable = "lora";   // "lora" | "all"
    std::string gpu = "auto";         // "auto" | "cpu" | "cuda" | "vulkan" | "metal" (ggmlBackends.h)
    std::string share_prompts = "auto";  // "auto" | "always" | "never": one row per shared prompt (qwen2Graph.cpp)
    bool cpu_blas = true;             // on the CPU, f32 products through OpenBLAS when it is installed (cpuBlas.h)
    int64_t head_chunk = 0;           // positions the output head scores at once at most (qwen2Head.h); 0 = by budget
    bool recompute = false;           // training: each layer's activations recomputed in the backward from its input
    LoraOptions lora;
    int n_threads = 2;
};

struct SequenceInput {
    std::vector<int32_t> tokens;      // [T_b]
    int completion_start = 1;         // log-probs cover tokens[completion_start..]
};

struct AdamWOptions {
    float learning_rate = 1e-4f, max_grad_norm = 1.0f, weight_decay = 0.0f;
    float beta1 = 0.9f, beta2 = 0.999f, epsilon = 1e-8f;
};

// Computes a training call's coefficients from its log-probs (detached), between the forward and the backward.
using CoefficientFn = std::function<std::vector<std::vector<float>>(const std::vector<std::vector<float>> &)>;

// One trainable tensor and its device-side gradient accumulator and AdamW moments.
struct TrainableTensor {
    ggml_tensor * tensor = nullptr;
    ggml_tensor * grad = nullptr, * m = nullptr, * v = nullptr;
};

// What the scheduler did with the last graph, and how that call's batch was laid out.
struct PlacementReport {
    int n_nodes = 0, n_on_device = 0, n_splits = 0;
    int n_sequences = 0, n_rows = 0, n_row_tokens = 0;   // B, R, T
    size_t compute_bytes = 0;                            // the scheduler's compute buffer on the device
    std::set<std::string> cpu_ops;                       // with a GPU: the ops of the nodes the scheduler left on the CPU
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
    // Forward and backward passes computed since load (a training call is one of each).
    int64_t forward_passes() const { return forward_passes_; }
    int64_t backward_passes() const { return backward_passes_; }
    // The LoRA shape in effect (from the options or the init adapter).
    int lora_rank() const { return options_.lora.rank; }
    float lora_alpha() const { return options_.lora.alpha; }
    const std::vector<std::string> & lora_targets() const { return options_.lora.targets; }
    // "CPU", "Vulkan0 (llvmpipe …)": where the graphs run; and the share of the last graph's nodes it ran.
    std::string device() const;
    const PlacementReport & placement() const { return placement_; }
    // The BLAS library the CPU graphs' f32 products go through ("OpenBLAS 0.3.21 … (Cooperlake)"), or "".
    std::string cpu_blas() const;
    // Positions the output head scores at once at most: options.head_chunk, else as many as keep one [V, m] f32
    // tensor within 16 MiB — 128 MiB for an f32 head through OpenBLAS, whose sgemm packs W once per call (27 positions
    // a chunk took 1.4 s of a 5.9 s 0.5B step for a 0.8 s head; quantized and GPU products stream W unpacked).
    int64_t head_chunk() const;
    // The GPU device's free and total memory in bytes (false on the CPU).
    bool device_memory(size_t & free, size_t & total) const;
    // Weight types as loaded, e.g. {"q8_0": 168, "f32": 121}.
    std::map<std::string, int> weight_types() const;

    // log π(y_t | y_<t) / T of every completion token, [B][C_b]. reference = the LoRA as loaded, frozen.
    std::vector<std::vector<float>> logprobs(const std::vector<SequenceInput> & batch, bool reference, float temperature);
    // Adds ∇ Σ c·log π to the gradient accumulators; returns Σ c·log π and the log-probs.
    double accumulate(const std::vector<SequenceInput> & batch, const std::vector<std::vector<float>> & coefficients,
                      float temperature, std::vector<std::vector<float>> & logprobs_out);
    // The same with c = coefficient_fn(log π) computed between the forward and the backward of ONE graph.
    double accumulate(const std::vector<SequenceInput> & batch, const CoefficientFn & coefficient_fn,
                      float temperature, std::vector<std::vector<float>> & logprobs_out);
    // Global-norm clip, AdamW (on the device), zero the gradients; returns the pre-clip norm.
    double step(const AdamWOptions & options);
    void zero_grad();

    void save_weights(const std::string & path) const;     // adapter GGUF (lora) or full model GGUF (all)
    void save_checkpoint(const std::string & path) const;  // trainables + AdamW moments + step
    void load_checkpoint(const std::string & path);
    void set_threads(int n_threads);

    // For tests: the trainable tensors by name, their gradients, and raw weight access (f32 values).
    std::vector<std::string> trainable_names() const;
    std::vector<float> get_tensor(const std::string & name) const;
    void set_tensor(const std::string & name, const std::vector<float> & values);
    std::vector<float> get_grad(const std::string & name) const;

    // ── read by the graph builder (qwen2Graph.cpp) and the backward rewrite ──
    ggml_tensor * tok_embd = nullptr;      // [E, V]
    ggml_tensor * output_norm = nullptr;   // [E]
    ggml_tensor * output = nullptr;        // [E, V] or nullptr when tied
    std::vector<Qwen2Layer> layers;
    std::vector<LoraPair> lora;
    // The KL reference's LoRA: a frozen copy of the init adapter (empty for a fresh LoRA, whose B = 0 makes
    // the reference the base model).
    std::vector<LoraPair> reference_lora;
    float lora_scale = 0.0f;               // alpha / rank
    float lora_dropout = 0.0f;
    // dX = Wᵀ·dY is a mul_mat against row-contiguous memory (backwardRewrite.cpp): the output head's transpose
    // [V, E] is made once at load (f16, or q8_0 for quantized heads); the layers' (frozen_matrices) are made inside
    // the graph and freed after use. arange: 0, 1, … for get_rows.
    std::unordered_map<const ggml_tensor *, ggml_tensor *> transposed;
    std::unordered_set<const ggml_tensor *> frozen_matrices;
    ggml_tensor * arange = nullptr;
    // LoRA dropout (qwen2Model.cpp, ensure_dropout_pool): uniform [0, 1) values on the device, drawn once from the
    // seed; each mask is a window of them at an offset hashed from (seed, step, call, pair) — made by the graph,
    // nothing uploaded per call.
    ggml_tensor * dropout_pool = nullptr;   // [P] f32
    int64_t dropout_offset(size_t pair, int64_t elements) const;

private:
    // qwen2Load.cpp
    void init_backends();
    void load_gguf();
    void read_hparams(const GgufFile & f);
    ggml_tensor * weight(const GgufFile & f, const std::string & name, std::vector<int64_t> shape, bool required = true);
    void upload_weights(const GgufFile & f);
    void make_transposes();
    // qwen2Lora.cpp
    void create_lora();
    void create_trainable_state();
    void make_scheduler();
    void ensure_dropout_pool(int64_t largest_mask);
    ggml_backend_sched_t scheduler_for_next_graph();
    // qwen2Model.cpp
    double run_graph(const std::vector<SequenceInput> & batch, const std::vector<std::vector<float>> * coefficients,
                     const CoefficientFn * coefficient_fn, bool reference, float temperature,
                     std::vector<std::vector<float>> & logprobs_out);
    ggml_tensor * find_tensor(const std::string & name) const;
    const TrainableTensor * find_trainable(const std::string & name) const;
    void free_all();

    ModelOptions options_;
    Qwen2Hparams hp_;

    ggml_backend_dev_t gpu_dev_ = nullptr;          // nullptr: CPU only
    ggml_backend_t gpu_backend_ = nullptr, cpu_backend_ = nullptr;
    ggml_threadpool_t cpu_pool_ = nullptr;          // kept worker threads for the CPU backend (qwen2Load.cpp)
    ggml_backend_buffer_type_t buft_ = nullptr;     // where weights, LoRA, optimizer state and inputs live
    ggml_backend_sched_t sched_ = nullptr;          // over [gpu, cpu] or [cpu] (qwen2Load.cpp, make_scheduler)
    bool fresh_context_per_graph_ = false;          // lavapipe: a new GPU backend + scheduler for every graph
    ProductTarget products_ = ProductTarget::cpu;   // how the rewrite computes products (backwardRewrite.h)
    size_t graph_size_ = 0;

    // Each group of tensors: a no_alloc context + one device buffer.
    struct Arena {
        ggml_context * ctx = nullptr;
        ggml_backend_buffer_t buf = nullptr;
        void free();
    };
    Arena weights_, transposes_, lora_, reference_, grads_, optimizer_, dropout_pool_;
    ggml_backend_buffer_t inputs_ = nullptr;   // every call's input tensors, placed here (grows to the largest call)
    ggml_tensor * seed_ = nullptr;          // d objective / d objective = 1 (the loss's gradient accumulator)
    ggml_tensor * adamw_params_ = nullptr;  // [7]: lr, β1, β2, ε, wd, 1/(1−β1^t), 1/(1−β2^t)

    std::map<std::string, ggml_tensor *> by_name_;
    std::vector<TrainableTensor> trainables_;
    std::vector<std::string> tensor_order_;      // model tensors in file order (save_weights "all")
    std::map<std::string, int> weight_types_;
    int64_t step_ = 0;
    int64_t forward_passes_ = 0, backward_passes_ = 0;
    int64_t calls_in_step_ = 0;   // accumulate() calls since the last step (seeds the dropout masks)
    PlacementReport placement_;
};

}  // namespace glrl
