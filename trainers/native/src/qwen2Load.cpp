// Loading a Qwen2 / Qwen3-dense GGUF for training (docs/native.md, "Quantized weights" and "The backward").
//
//   1. Devices: the GPU device `gpu` names (or none) and the CPU, from node-llama-cpp's loaded registry
//      (ggmlBackends.cpp); one scheduler over [GPU, CPU] (or [CPU]) for the policy's lifetime.
//   2. Hyperparameters: every key read typed (ggufFile.h); RoPE scaling as llama.cpp applies it to
//      qwen2/qwen3: none, linear (freq_scale = 1/factor) or YaRN (ext_factor 1, beta 32/1, attn_factor
//      mscale(factor)/(1 + 0.1·ln factor)·rope.scaling.attn_factor); any other type is refused.
//   3. Weights in the file's type (f32, f16, bf16, q8_0, q4_0, k-quants …) in one device buffer, streamed
//      from the file in chunks of rows: no f32 copy of the model (trainable "all" dequantizes: every weight
//      is trained in f32). 1-D tensors (norms, biases) as f32.
//   4. The output head's transpose Wᵀ [V, E] (f16 for f32/f16/bf16 W, q8_0 for quantized W when V is a multiple
//      of 32, else f16), built in blocks of ≤ 32 MB on the host, so dh = Wᵀ·dlogits is a fast mul_mat on every
//      backend; the layers' transposes are made inside the graph (backwardRewrite.cpp).
#include <algorithm>
#include <cstring>
#include <fstream>

#include "cpuBlas.h"
#include "ggml-alloc.h"
#include "ggmlBackends.h"
#include "qwen2Model.h"

namespace glrl {

void Qwen2Model::init_backends() {
    DeviceSelection devices = select_devices(options_.gpu);
    cpu_backend_ = ggml_backend_dev_init(devices.cpu, nullptr);
    if (!cpu_backend_) throw NativeFailure("native.backend", "the ggml CPU backend failed to initialize");
    set_backend_threads(cpu_backend_, options_.n_threads);
    // ggml starts and joins its worker threads on every CPU graph unless a pool is set: on the 2-core development
    // VM a graph then stalled 10–20 ms at random (a new thread waiting for its core) — a tiny LoRA step took 54 ms
    // at 2 threads against 24 ms with this pool. Its workers sleep between graphs (poll 0): nothing spins while the
    // sampler or JS runs.
    cpu_pool_ = make_cpu_threadpool(cpu_backend_, options_.n_threads, /*poll =*/ 0);
    gpu_dev_ = devices.gpu;
    fresh_context_per_graph_ = gpu_dev_ != nullptr && needs_fresh_context_per_graph(gpu_dev_);
    buft_ = gpu_dev_ ? ggml_backend_dev_buffer_type(gpu_dev_) : ggml_backend_get_default_buffer_type(cpu_backend_);
    products_ = gpu_dev_ ? ProductTarget::gpu
              : (options_.cpu_blas && !cpu_blas_name().empty()) ? ProductTarget::cpu_blas
                                                                  : ProductTarget::cpu;
    // A training graph holds ~4× the forward's nodes (ggml's autodiff) plus the rewrite's transposes.
    graph_size_ = 4096 + (size_t) hp_.n_layer * 1536;
    make_scheduler();
}

// The GPU backend (a ggml-vulkan/CUDA/Metal context: its command pools and descriptor sets) and the scheduler over
// [GPU, CPU] or [CPU]. Weights, LoRA, optimizer state and the inputs live in buffers of the device's buffer type,
// not of the backend, so a new backend sees them all.
void Qwen2Model::make_scheduler() {
    if (sched_) ggml_backend_sched_free(sched_);
    sched_ = nullptr;
    if (gpu_backend_) ggml_backend_free(gpu_backend_);
    gpu_backend_ = nullptr;
    std::vector<ggml_backend_t> backends;
    std::vector<ggml_backend_buffer_type_t> bufts;
    if (gpu_dev_) {
        gpu_backend_ = ggml_backend_dev_init(gpu_dev_, nullptr);
        if (!gpu_backend_) throw NativeFailure("native.backend", "the ggml device " + device_label(gpu_dev_) + " failed to initialize");
        backends.push_back(gpu_backend_);
        bufts.push_back(ggml_backend_dev_buffer_type(gpu_dev_));
    }
    backends.push_back(cpu_backend_);
    bufts.push_back(ggml_backend_get_default_buffer_type(cpu_backend_));
    sched_ = ggml_backend_sched_new(backends.data(), bufts.data(), (int) backends.size(), graph_size_,
                                    /*parallel =*/ false, /*op_offload =*/ true);
    if (!sched_) throw NativeFailure("native.backend", "ggml_backend_sched_new failed");
}

// The scheduler, reset, for the next graph. On Mesa's lavapipe a new GPU backend comes with every graph
// (docs/native.md, "Lavapipe and stale descriptors"): ggml-vulkan reuses its descriptor sets from graph to graph
// and writes only the bindings an op uses, so a set keeps, in its other bindings, buffers freed since (a compute
// buffer the scheduler outgrew, a smaller inputs buffer); lavapipe 22.x takes a reference on every binding of a
// bound set, and that reference lands in freed heap memory — glibc's "double free or corruption". A new backend
// has new descriptor sets, which only ever name live buffers.
ggml_backend_sched_t Qwen2Model::scheduler_for_next_graph() {
    if (fresh_context_per_graph_) make_scheduler();
    ggml_backend_sched_reset(sched_);
    return sched_;
}

void Qwen2Model::read_hparams(const GgufFile & f) {
    hp_.architecture = f.get_string("general.architecture");
    if (hp_.architecture != "qwen2" && hp_.architecture != "qwen3") {
        f.fail("native.arch", "is \"" + hp_.architecture + "\"; the gradient extension trains qwen2 and qwen3 (dense) models");
    }
    const std::string a = hp_.architecture + ".";
    auto positive = [&](const std::string & key, int64_t v) {
        if (v <= 0 || v > (1 << 24)) f.fail("native.gguf", "has metadata " + key + " = " + std::to_string(v) + ", expected 1 … 2^24");
        return (int) v;
    };
    hp_.n_layer = positive(a + "block_count", f.get_int(a + "block_count"));
    hp_.n_embd = positive(a + "embedding_length", f.get_int(a + "embedding_length"));
    hp_.n_head = positive(a + "attention.head_count", f.get_int(a + "attention.head_count"));
    hp_.n_head_kv = positive(a + "attention.head_count_kv", f.get_int(a + "attention.head_count_kv", hp_.n_head));
    hp_.n_ff = positive(a + "feed_forward_length", f.get_int(a + "feed_forward_length"));
    hp_.n_ctx_train = positive(a + "context_length", f.get_int(a + "context_length", 4096));
    hp_.head_dim = positive(a + "attention.key_length", f.get_int(a + "attention.key_length", hp_.n_embd / hp_.n_head));
    if (f.get_int(a + "attention.value_length", hp_.head_dim) != hp_.head_dim ||
        f.get_int(a + "rope.dimension_count", hp_.head_dim) != hp_.head_dim) {
        f.fail("native.gguf", "has attention.value_length or rope.dimension_count ≠ key_length " + std::to_string(hp_.head_dim) +
            "; qwen2/qwen3 rotate and attend over the whole head");
    }
    // Before anything is sized by it: the layers the metadata announces must exist (a corrupt block_count of
    // 10^7 would otherwise size the scheduler and the layer table first).
    if (!f.tensor("blk." + std::to_string(hp_.n_layer - 1) + ".attn_norm.weight")) {
        f.fail("native.gguf", "has block_count " + std::to_string(hp_.n_layer) + " but no tensor blk." +
            std::to_string(hp_.n_layer - 1) + ".attn_norm.weight");
    }
    if (hp_.n_head % hp_.n_head_kv != 0) {
        f.fail("native.gguf", "has head_count " + std::to_string(hp_.n_head) + ", not a multiple of head_count_kv " +
            std::to_string(hp_.n_head_kv));
    }
    hp_.rms_eps = (float) f.get_float(a + "attention.layer_norm_rms_epsilon", 1e-6);
    hp_.rope_freq_base = (float) f.get_float(a + "rope.freq_base", 10000.0);

    // RoPE scaling, exactly as llama.cpp applies it to qwen2/qwen3 (llama-model.cpp, llama-context.cpp).
    const std::string type = f.get_string(a + "rope.scaling.type", "linear");
    if (type != "none" && type != "linear" && type != "yarn") {
        f.fail("native.gguf", "uses RoPE scaling \"" + type + "\" (" + a + "rope.scaling.type); the gradient extension "
            "applies none, linear and yarn — training on it would compute another function than llama.cpp");
    }
    double factor = f.get_float(a + "rope.scaling.factor", 0.0);
    if (factor == 0.0) factor = f.get_float(a + "rope.scale_linear", 0.0);
    if (factor < 0.0 || !std::isfinite(factor)) f.fail("native.gguf", "has rope.scaling.factor " + std::to_string(factor) + ", expected ≥ 0");
    hp_.rope_freq_scale = (type == "none" || factor == 0.0) ? 1.0f : 1.0f / (float) factor;
    hp_.rope_n_ctx_orig = (int) f.get_int(a + "rope.scaling.original_context_length", hp_.n_ctx_train);
    hp_.rope_ext_factor = type == "yarn" ? 1.0f : 0.0f;
    float attn_factor = 1.0f;
    if (hp_.rope_ext_factor != 0.0f) {
        const float s = 1.0f / hp_.rope_freq_scale;
        const float mscale = s <= 1.0f ? 1.0f : 0.1f * logf(s) + 1.0f;
        attn_factor = mscale * (1.0f / (1.0f + 0.1f * logf(s)));
    }
    hp_.rope_attn_factor = attn_factor * (float) f.get_float(a + "rope.scaling.attn_factor", 1.0);
}

ggml_tensor * Qwen2Model::weight(const GgufFile & f, const std::string & name, std::vector<int64_t> shape, bool required) {
    ggml_tensor * src = f.tensor(name);
    if (!src) {
        if (!required) return nullptr;
        f.fail("native.gguf", "lacks tensor " + name + " (expected in a " + hp_.architecture + " model with " +
            std::to_string(hp_.n_layer) + " layers)");
    }
    for (int d = 0; d < GGML_MAX_DIMS; ++d) {
        const int64_t want = d < (int) shape.size() ? shape[d] : 1;
        if (src->ne[d] != want) {
            f.fail("native.shape", "has tensor " + name + " of shape " + shape_string(src) + ", expected " + shape_string(shape) +
                " from the metadata (" + hp_.architecture + ", embedding_length " + std::to_string(hp_.n_embd) + ", head_count " +
                std::to_string(hp_.n_head) + "/" + std::to_string(hp_.n_head_kv) + ")");
        }
    }
    // The types llama.cpp's Qwen GGUFs use and every ggml backend multiplies by (others are refused, not guessed).
    static const ggml_type SUPPORTED[] = {GGML_TYPE_F32, GGML_TYPE_F16, GGML_TYPE_BF16, GGML_TYPE_Q4_0, GGML_TYPE_Q4_1,
        GGML_TYPE_Q5_0, GGML_TYPE_Q5_1, GGML_TYPE_Q8_0, GGML_TYPE_Q2_K, GGML_TYPE_Q3_K, GGML_TYPE_Q4_K, GGML_TYPE_Q5_K,
        GGML_TYPE_Q6_K, GGML_TYPE_IQ4_NL, GGML_TYPE_IQ4_XS};
    bool supported = false;
    for (ggml_type t : SUPPORTED) supported = supported || src->type == t;
    if (!supported) {
        f.fail("native.gguf", "has tensor " + name + " of type " + ggml_type_name(src->type) + ", which the trainer does not "
            "support (f32, f16, bf16, q4_0, q4_1, q5_0, q5_1, q8_0, q2_K … q6_K, iq4_nl, iq4_xs); requantize the model");
    }
    // Matrices keep the file's type (LoRA training); trained weights and 1-D tensors are f32.
    const ggml_type type = (shape.size() == 2 && options_.trainable == "lora") ? src->type : GGML_TYPE_F32;
    ggml_tensor * t = ggml_new_tensor(weights_.ctx, type, (int) shape.size(), shape.data());
    ggml_set_name(t, name.c_str());
    by_name_[name] = t;
    weight_types_[ggml_type_name(type)] += 1;
    return t;
}

void Qwen2Model::load_gguf() {
    GgufFile f(options_.model_path, /*with_data =*/ false, "model");
    read_hparams(f);
    ggml_tensor * embd = f.tensor("token_embd.weight");
    if (!embd) f.fail("native.gguf", "lacks tensor token_embd.weight");
    hp_.n_vocab = (int) embd->ne[1];
    hp_.tied_output = f.tensor("output.weight") == nullptr;

    const int64_t n_tensors = gguf_get_n_tensors(f.gguf());
    ggml_init_params p = {/*mem_size =*/ (size_t) (n_tensors + 16) * ggml_tensor_overhead(), nullptr, /*no_alloc =*/ true};
    weights_.ctx = ggml_init(p);
    const int64_t E = hp_.n_embd, V = hp_.n_vocab, F = hp_.n_ff;
    const int64_t QD = (int64_t) hp_.n_head * hp_.head_dim, KD = (int64_t) hp_.n_head_kv * hp_.head_dim;
    const bool qwen3 = hp_.architecture == "qwen3";

    tok_embd = weight(f, "token_embd.weight", {E, V});
    output_norm = weight(f, "output_norm.weight", {E});
    output = hp_.tied_output ? nullptr : weight(f, "output.weight", {E, V});
    layers.resize(hp_.n_layer);
    for (int il = 0; il < hp_.n_layer; ++il) {
        const std::string b = "blk." + std::to_string(il) + ".";
        Qwen2Layer & L = layers[il];
        L.attn_norm = weight(f, b + "attn_norm.weight", {E});
        L.wq = weight(f, b + "attn_q.weight", {E, QD});
        L.wk = weight(f, b + "attn_k.weight", {E, KD});
        L.wv = weight(f, b + "attn_v.weight", {E, KD});
        L.bq = weight(f, b + "attn_q.bias", {QD}, /*required =*/ !qwen3);
        L.bk = weight(f, b + "attn_k.bias", {KD}, !qwen3);
        L.bv = weight(f, b + "attn_v.bias", {KD}, !qwen3);
        if (qwen3) {
            L.q_norm = weight(f, b + "attn_q_norm.weight", {hp_.head_dim}, false);
            L.k_norm = weight(f, b + "attn_k_norm.weight", {hp_.head_dim}, false);
        }
        L.wo = weight(f, b + "attn_output.weight", {QD, E});
        L.ffn_norm = weight(f, b + "ffn_norm.weight", {E});
        L.w_gate = weight(f, b + "ffn_gate.weight", {E, F});
        L.w_up = weight(f, b + "ffn_up.weight", {E, F});
        L.w_down = weight(f, b + "ffn_down.weight", {F, E});
    }
    weights_.buf = ggml_backend_alloc_ctx_tensors_from_buft(weights_.ctx, buft_);
    if (!weights_.buf) f.fail("native.memory", "does not fit in " + device() + " memory (allocating its weights failed)");
    ggml_backend_buffer_set_usage(weights_.buf, GGML_BACKEND_BUFFER_USAGE_WEIGHTS);
    upload_weights(f);
    if (options_.trainable == "lora") make_transposes();
    if (options_.trainable == "all") {
        for (const std::string & name : tensor_order_) trainables_.push_back({find_tensor(name), nullptr, nullptr, nullptr});
    }
}

namespace {

// Reads rows [r0, r1) of a file tensor (raw bytes, its own type).
void read_rows(std::ifstream & file, const GgufFile & f, int64_t index, const ggml_tensor * src, int64_t r0, int64_t r1,
               std::vector<uint8_t> & raw) {
    const size_t row = ggml_row_size(src->type, src->ne[0]);
    raw.resize((size_t) (r1 - r0) * row);
    file.seekg((std::streamoff) (gguf_get_data_offset(f.gguf()) + gguf_get_tensor_offset(f.gguf(), index) + (size_t) r0 * row));
    file.read((char *) raw.data(), (std::streamsize) raw.size());
    if ((size_t) file.gcount() != raw.size()) {
        f.fail("native.gguf", "is truncated: tensor " + std::string(ggml_get_name(src)) + " needs " +
            std::to_string(ggml_nbytes(src)) + " bytes from offset " + std::to_string(gguf_get_tensor_offset(f.gguf(), index)));
    }
}

void to_f32(const ggml_tensor * src, const std::vector<uint8_t> & raw, std::vector<float> & out) {
    const int64_t n = (int64_t) (raw.size() / ggml_row_size(src->type, src->ne[0])) * src->ne[0];
    out.resize((size_t) n);
    if (src->type == GGML_TYPE_F32) std::memcpy(out.data(), raw.data(), (size_t) n * sizeof(float));
    else ggml_get_type_traits(src->type)->to_float(raw.data(), out.data(), n);
}

constexpr size_t CHUNK_BYTES = 16u << 20;

}  // namespace

void Qwen2Model::upload_weights(const GgufFile & f) {
    std::ifstream file(options_.model_path, std::ios::binary);
    std::vector<uint8_t> raw;
    std::vector<float> f32;
    for (int64_t i = 0; i < gguf_get_n_tensors(f.gguf()); ++i) {
        const std::string name = gguf_get_tensor_name(f.gguf(), i);
        ggml_tensor * dst = find_tensor(name);
        if (!dst) continue;  // e.g. rope_freqs: not used by this graph
        const ggml_tensor * src = f.tensor(name);
        const int64_t rows = ggml_nrows(src);
        const int64_t step = std::max<int64_t>(1, (int64_t) (CHUNK_BYTES / (src->ne[0] * sizeof(float))));
        for (int64_t r0 = 0; r0 < rows; r0 += step) {
            const int64_t r1 = std::min(rows, r0 + step);
            read_rows(file, f, i, src, r0, r1, raw);
            if (dst->type == src->type) {
                ggml_backend_tensor_set(dst, raw.data(), (size_t) r0 * ggml_row_size(src->type, src->ne[0]), raw.size());
            } else {
                to_f32(src, raw, f32);
                ggml_backend_tensor_set(dst, f32.data(), (size_t) r0 * src->ne[0] * sizeof(float), f32.size() * sizeof(float));
            }
        }
        tensor_order_.push_back(name);
    }
}

void Qwen2Model::make_transposes() {
    // The backward multiplies by every layer matrix (transposed inside the graph: backwardRewrite.cpp) and by the
    // head, whose transpose is stored here.
    int64_t widest = 0;
    for (const Qwen2Layer & L : layers) {
        for (ggml_tensor * w : {L.wq, L.wk, L.wv, L.wo, L.w_gate, L.w_up, L.w_down}) {
            frozen_matrices.insert(w);
            widest = std::max(widest, w->ne[1]);
        }
    }
    // With OpenBLAS an f32 head needs none: sgemm reads W in either orientation (cpuBlas.cpp).
    std::vector<ggml_tensor *> frozen;
    ggml_tensor * head = output ? output : tok_embd;
    if (!(products_ == ProductTarget::cpu_blas && head->type == GGML_TYPE_F32)) frozen.push_back(head);
    // f16 for an f32 or f16 head (half the memory of f32: 272 MB instead of 545 for a 0.5B model's tied head; the
    // product goes through the per-column scaling of backwardRewrite.cpp), q8_0 for a quantized one.
    auto type_for = [](const ggml_tensor * w) {
        if (w->type == GGML_TYPE_F32 || w->type == GGML_TYPE_F16 || w->type == GGML_TYPE_BF16) return GGML_TYPE_F16;
        return w->ne[1] % 32 == 0 ? GGML_TYPE_Q8_0 : GGML_TYPE_F16;
    };
    ggml_init_params p = {/*mem_size =*/ (frozen.size() + 4) * ggml_tensor_overhead(), nullptr, /*no_alloc =*/ true};
    transposes_.ctx = ggml_init(p);
    for (ggml_tensor * w : frozen) {
        ggml_tensor * t = ggml_new_tensor_2d(transposes_.ctx, type_for(w), w->ne[1], w->ne[0]);   // [n_out, n_in]
        ggml_format_name(t, "%s.T", ggml_get_name(w));
        transposed[w] = t;
    }
    arange = ggml_new_tensor_1d(transposes_.ctx, GGML_TYPE_I32, widest);
    transposes_.buf = ggml_backend_alloc_ctx_tensors_from_buft(transposes_.ctx, buft_);
    if (!transposes_.buf) throw NativeFailure("native.memory", "out of " + device() + " memory for the transposed weights of " + options_.model_path);
    ggml_backend_buffer_set_usage(transposes_.buf, GGML_BACKEND_BUFFER_USAGE_WEIGHTS);
    std::vector<int32_t> indices((size_t) widest);
    for (int64_t i = 0; i < widest; ++i) indices[(size_t) i] = (int32_t) i;
    ggml_backend_tensor_set(arange, indices.data(), 0, ggml_nbytes(arange));

    // Built from the file (not the device copy): blocks of Wᵀ rows (= W columns) of ≤ 32 MB in f32.
    GgufFile f(options_.model_path, false, "model");
    std::ifstream file(options_.model_path, std::ios::binary);
    std::vector<uint8_t> raw, out;
    std::vector<float> rows_f32, block;
    for (ggml_tensor * w : frozen) {
        ggml_tensor * t = transposed[w];
        const int64_t n_in = w->ne[0], n_out = w->ne[1];
        const int64_t index = gguf_find_tensor(f.gguf(), ggml_get_name(w));
        const ggml_tensor * src = f.tensor(ggml_get_name(w));
        const int64_t cols = std::max<int64_t>(1, std::min<int64_t>(n_in, (int64_t) ((32u << 20) / (n_out * sizeof(float)))));
        const int64_t step = std::max<int64_t>(1, (int64_t) (CHUNK_BYTES / (n_in * sizeof(float))));
        for (int64_t c0 = 0; c0 < n_in; c0 += cols) {
            const int64_t c1 = std::min(n_in, c0 + cols);
            block.assign((size_t) (c1 - c0) * n_out, 0.0f);   // [c1 - c0 rows of Wᵀ, n_out]
            for (int64_t r0 = 0; r0 < n_out; r0 += step) {
                const int64_t r1 = std::min(n_out, r0 + step);
                read_rows(file, f, index, src, r0, r1, raw);
                to_f32(src, raw, rows_f32);
                for (int64_t r = r0; r < r1; ++r) {
                    const float * row = rows_f32.data() + (size_t) (r - r0) * n_in;
                    for (int64_t c = c0; c < c1; ++c) block[(size_t) (c - c0) * n_out + r] = row[c];
                }
            }
            const size_t row_bytes = ggml_row_size(t->type, n_out);
            out.resize((size_t) (c1 - c0) * row_bytes);
            if (t->type == GGML_TYPE_F32) std::memcpy(out.data(), block.data(), out.size());
            else if (t->type == GGML_TYPE_F16) ggml_fp32_to_fp16_row(block.data(), (ggml_fp16_t *) out.data(), (int64_t) block.size());
            else ggml_quantize_chunk(t->type, block.data(), out.data(), 0, c1 - c0, n_out, nullptr);
            ggml_backend_tensor_set(t, out.data(), (size_t) c0 * row_bytes, out.size());
        }
    }
}

}  // namespace glrl
