// Qwen2Model: load a Qwen2/Qwen3-dense GGUF for training, run forward(+backward) graphs, AdamW, save.
//
// Algorithm choices:
//   - Load: gguf metadata → hparams; each tensor read from the file and dequantized to f32 with ggml's type
//     traits (to_float), because ggml's backward through quantized/f16 weights is 7–27× slower than f32.
//   - Trainable "lora": A ~ U(−1/√n_in, 1/√n_in) (PEFT's kaiming_uniform(a=√5)), B = 0, scale = alpha/rank;
//     "all": every weight. Gradients of Σ c·log π are added into host f32 buffers after each graph.
//   - LoRA dropout (accumulate only): the LoRA branch reads x ⊙ mask, mask ∈ {0, 1/(1−p)} drawn from
//     (seed, step, call index within the step) so that a run resumed from a checkpoint draws the same masks.
//   - step: g ← g·min(1, max_norm/‖g‖) (global L2 norm over all trainables), then PyTorch's AdamW:
//     θ ← θ(1 − lr·wd); m ← β1 m + (1−β1) g; v ← β2 v + (1−β2) g²; θ ← θ − lr·m̂/(√v̂ + ε),
//     m̂ = m/(1−β1^t), v̂ = v/(1−β2^t). Gradients are then zeroed.
//   - Files are written to "<path>.tmp-<pid>" and renamed, so a kill never leaves a half-written file.
//   - GLRL_PROFILE=1 in the environment prints build/alloc and compute times of every graph to stderr.
#include "qwen2Model.h"

#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <random>
#include <unistd.h>

#include "ggml-alloc.h"
#include "ggml-cpu.h"
#include "gguf.h"

namespace glrl {

// ─── helpers for gguf metadata ────────────────────────────────────────────────────────────────────────────

namespace {

struct GgufHandle {
    gguf_context * gguf = nullptr;
    ggml_context * meta = nullptr;
    ~GgufHandle() {
        if (gguf) gguf_free(gguf);
        if (meta) ggml_free(meta);
    }
};

// Opens a GGUF with tensor metadata only (no_alloc) or with data; a clear error instead of ggml's NULL.
void open_gguf(const std::string & path, bool with_data, GgufHandle & h, const char * what) {
    std::ifstream probe(path, std::ios::binary);
    if (!probe) {
        throw NativeFailure("native.file", std::string(what) + " " + path + " cannot be opened: no such file or no read permission");
    }
    char magic[4] = {0, 0, 0, 0};
    probe.read(magic, 4);
    if (probe.gcount() != 4 || std::memcmp(magic, "GGUF", 4) != 0) {
        throw NativeFailure("native.gguf", std::string(what) + " " + path + " is not GGUF: expected magic 'GGUF' at byte 0; pass a .gguf file");
    }
    gguf_init_params params = {/*no_alloc =*/ !with_data, /*ctx =*/ &h.meta};
    h.gguf = gguf_init_from_file(path.c_str(), params);
    if (!h.gguf) {
        throw NativeFailure("native.gguf", std::string(what) + " " + path + " is a truncated or corrupt GGUF (gguf_init_from_file failed)");
    }
}

int64_t get_int(const gguf_context * g, const std::string & key, int64_t fallback, bool required, const std::string & path) {
    const int64_t id = gguf_find_key(g, key.c_str());
    if (id < 0) {
        if (required) throw NativeFailure("native.gguf", "model " + path + " lacks metadata key " + key);
        return fallback;
    }
    switch (gguf_get_kv_type(g, id)) {
        case GGUF_TYPE_UINT8: return gguf_get_val_u8(g, id);
        case GGUF_TYPE_INT8: return gguf_get_val_i8(g, id);
        case GGUF_TYPE_UINT16: return gguf_get_val_u16(g, id);
        case GGUF_TYPE_INT16: return gguf_get_val_i16(g, id);
        case GGUF_TYPE_UINT32: return gguf_get_val_u32(g, id);
        case GGUF_TYPE_INT32: return gguf_get_val_i32(g, id);
        case GGUF_TYPE_UINT64: return (int64_t) gguf_get_val_u64(g, id);
        case GGUF_TYPE_INT64: return gguf_get_val_i64(g, id);
        default: throw NativeFailure("native.gguf", "model " + path + ": metadata " + key + " is not an integer");
    }
}

float get_float(const gguf_context * g, const std::string & key, float fallback) {
    const int64_t id = gguf_find_key(g, key.c_str());
    if (id < 0) return fallback;
    if (gguf_get_kv_type(g, id) == GGUF_TYPE_FLOAT32) return gguf_get_val_f32(g, id);
    if (gguf_get_kv_type(g, id) == GGUF_TYPE_FLOAT64) return (float) gguf_get_val_f64(g, id);
    return fallback;
}

std::string shape_string(const std::vector<int64_t> & shape) {
    std::string s = "[";
    for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
    return s + "]";
}

std::string shape_string(const ggml_tensor * t) {
    std::vector<int64_t> shape;
    for (int i = 0; i < ggml_n_dims(t); ++i) shape.push_back(t->ne[i]);
    return shape_string(shape);
}

// Writes a gguf context atomically: temp file in the same directory, then rename.
void write_gguf_atomically(const gguf_context * g, const std::string & path) {
    const std::string tmp = path + ".tmp-" + std::to_string(getpid());
    if (!gguf_write_to_file(g, tmp.c_str(), /*only_meta =*/ false)) {
        std::remove(tmp.c_str());
        throw NativeFailure("native.write", "cannot write " + tmp + " (directory missing or disk full?)");
    }
    if (std::rename(tmp.c_str(), path.c_str()) != 0) {
        std::remove(tmp.c_str());
        throw NativeFailure("native.write", "cannot rename " + tmp + " to " + path);
    }
}

// A host context holding f32 copies of tensors, so gguf_add_tensor can write them.
struct HostCopies {
    ggml_context * ctx = nullptr;
    // bytes = Σ tensor bytes; n_tensors = how many will be added (each needs an object header + alignment).
    HostCopies(size_t bytes, size_t n_tensors) {
        const size_t size = bytes + n_tensors * (ggml_tensor_overhead() + 64) + 1024;
        ggml_init_params p = {/*mem_size =*/ size, /*mem_buffer =*/ nullptr, /*no_alloc =*/ false};
        ctx = ggml_init(p);
        if (!ctx) throw NativeFailure("native.memory", "out of memory allocating " + std::to_string(bytes) + " bytes for a save");
    }
    ~HostCopies() { ggml_free(ctx); }
    ggml_tensor * add(const std::string & name, const ggml_tensor * shape_of, const float * data) {
        ggml_tensor * t = ggml_new_tensor(ctx, GGML_TYPE_F32, ggml_n_dims(shape_of), shape_of->ne);
        ggml_set_name(t, name.c_str());
        std::memcpy(t->data, data, ggml_nbytes(t));
        return t;
    }
};

const char * LORA_TARGETS[] = {"attn_q", "attn_k", "attn_v", "attn_output", "ffn_gate", "ffn_up", "ffn_down"};

}  // namespace

// ─── load ─────────────────────────────────────────────────────────────────────────────────────────────────

Qwen2Model::Qwen2Model(const ModelOptions & options) : options_(options) {
    if (options_.trainable != "lora" && options_.trainable != "all") {
        throw NativeFailure("native.input", "trainable must be \"lora\" or \"all\", got \"" + options_.trainable + "\"");
    }
    if (!ggml_backend_dev_by_type(GGML_BACKEND_DEVICE_TYPE_CPU) && !options_.ggml_bins_dir.empty()) {
        // node-llama-cpp ships the CPU backend as dlopen'ed variants; it may have registered one already.
        // Nobody has set a ggml logger yet then: keep ggml's info chatter ("load_backend: …") off stderr.
        // (node-llama-cpp installs its own logger when it loads, replacing this one.)
        ggml_log_set([](ggml_log_level level, const char * text, void *) {
            if (level == GGML_LOG_LEVEL_WARN || level == GGML_LOG_LEVEL_ERROR) fputs(text, stderr);
        }, nullptr);
        ggml_backend_load_all_from_path(options_.ggml_bins_dir.c_str());
    }
    ggml_backend_dev_t dev = ggml_backend_dev_by_type(GGML_BACKEND_DEVICE_TYPE_CPU);
    if (!dev) {
        throw NativeFailure("native.backend", "no ggml CPU backend found in " + options_.ggml_bins_dir +
            "; reinstall node-llama-cpp (its @node-llama-cpp/linux-x64 package ships libggml-cpu-*.so)");
    }
    backend_ = ggml_backend_dev_init(dev, nullptr);
    if (!backend_) throw NativeFailure("native.backend", "ggml CPU backend failed to initialize");
    try {
        set_threads(options_.n_threads);
        load_gguf();
        if (options_.trainable == "lora") {
            create_lora();
        }
        ggml_init_params sp = {/*mem_size =*/ 2 * ggml_tensor_overhead(), nullptr, /*no_alloc =*/ true};
        seed_ctx_ = ggml_init(sp);
        seed_ = ggml_new_tensor(seed_ctx_, GGML_TYPE_F32, GGML_MAX_DIMS, std::vector<int64_t>(GGML_MAX_DIMS, 1).data());
        seed_buf_ = ggml_backend_alloc_ctx_tensors(seed_ctx_, backend_);
        for (auto & t : trainables_) {
            ggml_set_param(t.tensor);
            const size_t n = (size_t) ggml_nelements(t.tensor);
            t.grad.assign(n, 0.0f);
            t.m.assign(n, 0.0f);
            t.v.assign(n, 0.0f);
        }
    } catch (...) {
        free_buffers();
        throw;
    }
}

Qwen2Model::~Qwen2Model() { free_buffers(); }

void Qwen2Model::free_buffers() {
    if (galloc_) ggml_gallocr_free(galloc_);
    galloc_ = nullptr;
    if (seed_buf_) ggml_backend_buffer_free(seed_buf_);
    if (seed_ctx_) ggml_free(seed_ctx_);
    seed_buf_ = nullptr;
    seed_ctx_ = nullptr;
    if (lora_buf_) ggml_backend_buffer_free(lora_buf_);
    if (lora_ctx_) ggml_free(lora_ctx_);
    lora_buf_ = nullptr;
    lora_ctx_ = nullptr;
    if (buf_weights_) ggml_backend_buffer_free(buf_weights_);
    if (ctx_weights_) ggml_free(ctx_weights_);
    if (backend_) ggml_backend_free(backend_);
    buf_weights_ = nullptr;
    ctx_weights_ = nullptr;
    backend_ = nullptr;
}

void Qwen2Model::set_threads(int n_threads) {
    if (n_threads < 1) throw NativeFailure("native.input", "threads must be ≥ 1, got " + std::to_string(n_threads));
    options_.n_threads = n_threads;
    ggml_backend_dev_t dev = ggml_backend_get_device(backend_);
    ggml_backend_reg_t reg = dev ? ggml_backend_dev_backend_reg(dev) : nullptr;
    auto fn = reg ? (ggml_backend_set_n_threads_t) ggml_backend_reg_get_proc_address(reg, "ggml_backend_set_n_threads") : nullptr;
    if (fn) fn(backend_, n_threads);
}

ggml_tensor * Qwen2Model::find_tensor(const std::string & name) const {
    auto it = by_name_.find(name);
    return it == by_name_.end() ? nullptr : it->second;
}

void Qwen2Model::load_gguf() {
    const std::string & path = options_.model_path;
    GgufHandle h;
    open_gguf(path, /*with_data =*/ false, h, "model");
    const gguf_context * g = h.gguf;
    loading_ = g;

    const int64_t arch_id = gguf_find_key(g, "general.architecture");
    if (arch_id < 0) throw NativeFailure("native.gguf", "model " + path + " lacks general.architecture");
    hp_.architecture = gguf_get_val_str(g, arch_id);
    if (hp_.architecture != "qwen2" && hp_.architecture != "qwen3") {
        throw NativeFailure("native.arch", "model " + path + " is \"" + hp_.architecture +
            "\"; the gradient extension trains qwen2 and qwen3 (dense) models");
    }
    const std::string a = hp_.architecture + ".";
    hp_.n_layer = (int) get_int(g, a + "block_count", 0, true, path);
    hp_.n_embd = (int) get_int(g, a + "embedding_length", 0, true, path);
    hp_.n_head = (int) get_int(g, a + "attention.head_count", 0, true, path);
    hp_.n_head_kv = (int) get_int(g, a + "attention.head_count_kv", hp_.n_head, false, path);
    hp_.n_ff = (int) get_int(g, a + "feed_forward_length", 0, true, path);
    hp_.n_ctx_train = (int) get_int(g, a + "context_length", 4096, false, path);
    hp_.head_dim = (int) get_int(g, a + "attention.key_length", hp_.n_embd / std::max(1, hp_.n_head), false, path);
    hp_.rope_freq_base = get_float(g, a + "rope.freq_base", 10000.0f);
    hp_.rms_eps = get_float(g, a + "attention.layer_norm_rms_epsilon", 1e-6f);
    if (hp_.n_head <= 0 || hp_.n_head_kv <= 0 || hp_.n_head % hp_.n_head_kv != 0) {
        throw NativeFailure("native.gguf", "model " + path + ": head_count " + std::to_string(hp_.n_head) +
            " is not a multiple of head_count_kv " + std::to_string(hp_.n_head_kv));
    }
    const int64_t embd_id = gguf_find_tensor(g, "token_embd.weight");
    if (embd_id < 0) throw NativeFailure("native.gguf", "model " + path + " lacks tensor token_embd.weight");
    hp_.n_vocab = (int) ggml_get_tensor(h.meta, "token_embd.weight")->ne[1];
    hp_.tied_output = gguf_find_tensor(g, "output.weight") < 0;

    // ── create f32 tensors of the expected shapes ──
    const int64_t n_tensors = gguf_get_n_tensors(g);
    ggml_init_params p = {/*mem_size =*/ (size_t) (n_tensors + 16) * ggml_tensor_overhead(), nullptr, /*no_alloc =*/ true};
    ctx_weights_ = ggml_init(p);
    const int64_t E = hp_.n_embd, V = hp_.n_vocab, F = hp_.n_ff;
    const int64_t QD = (int64_t) hp_.n_head * hp_.head_dim, KD = (int64_t) hp_.n_head_kv * hp_.head_dim;
    const bool qwen3 = hp_.architecture == "qwen3";

    tok_embd = weight("token_embd.weight", {E, V});
    output_norm = weight("output_norm.weight", {E});
    output = hp_.tied_output ? nullptr : weight("output.weight", {E, V});
    layers.resize(hp_.n_layer);
    for (int il = 0; il < hp_.n_layer; ++il) {
        const std::string b = "blk." + std::to_string(il) + ".";
        Qwen2Layer & L = layers[il];
        L.attn_norm = weight(b + "attn_norm.weight", {E});
        L.wq = weight(b + "attn_q.weight", {E, QD});
        L.wk = weight(b + "attn_k.weight", {E, KD});
        L.wv = weight(b + "attn_v.weight", {E, KD});
        L.bq = weight(b + "attn_q.bias", {QD}, /*required =*/ !qwen3);
        L.bk = weight(b + "attn_k.bias", {KD}, !qwen3);
        L.bv = weight(b + "attn_v.bias", {KD}, !qwen3);
        if (qwen3) {
            L.q_norm = weight(b + "attn_q_norm.weight", {hp_.head_dim}, false);
            L.k_norm = weight(b + "attn_k_norm.weight", {hp_.head_dim}, false);
        }
        L.wo = weight(b + "attn_output.weight", {QD, E});
        L.ffn_norm = weight(b + "ffn_norm.weight", {E});
        L.w_gate = weight(b + "ffn_gate.weight", {E, F});
        L.w_up = weight(b + "ffn_up.weight", {E, F});
        L.w_down = weight(b + "ffn_down.weight", {F, E});
    }
    // Only the tensors we created exist in ctx_weights_; now check the file's shapes and types against them.
    for (const auto & [name, t] : by_name_) {
        ggml_tensor * src = ggml_get_tensor(h.meta, name.c_str());
        if (!src) continue;  // weight() already threw for required ones
        for (int d = 0; d < GGML_MAX_DIMS; ++d) {
            if (src->ne[d] != t->ne[d]) {
                throw NativeFailure("native.shape", "model " + path + ": tensor " + name + " has shape " + shape_string(src) +
                    ", expected " + shape_string(t) + " from the metadata (" + hp_.architecture + ", embedding_length " +
                    std::to_string(E) + ", head_count " + std::to_string(hp_.n_head) + "/" + std::to_string(hp_.n_head_kv) + ")");
            }
        }
        const ggml_type_traits * tr = ggml_get_type_traits(src->type);
        if (src->type != GGML_TYPE_F32 && (!tr || !tr->to_float)) {
            throw NativeFailure("native.gguf", "model " + path + ": tensor " + name + " has type " +
                (tr ? tr->type_name : "?") + ", which cannot be dequantized");
        }
    }
    buf_weights_ = ggml_backend_alloc_ctx_tensors(ctx_weights_, backend_);
    if (!buf_weights_) throw NativeFailure("native.memory", "out of memory allocating the f32 weights of " + path);

    // ── read + dequantize, one tensor at a time ──
    std::ifstream file(path, std::ios::binary);
    const size_t data_offset = gguf_get_data_offset(g);
    std::vector<uint8_t> raw;
    std::vector<float> f32;
    for (int64_t i = 0; i < n_tensors; ++i) {
        const std::string name = gguf_get_tensor_name(g, i);
        ggml_tensor * dst = find_tensor(name);
        if (!dst) continue;  // e.g. rope_freqs: not used by this graph
        ggml_tensor * src = ggml_get_tensor(h.meta, name.c_str());
        raw.resize(ggml_nbytes(src));
        file.seekg((std::streamoff) (data_offset + gguf_get_tensor_offset(g, i)));
        file.read((char *) raw.data(), (std::streamsize) raw.size());
        if ((size_t) file.gcount() != raw.size()) {
            throw NativeFailure("native.gguf", "model " + path + " is truncated: tensor " + name + " needs " +
                std::to_string(raw.size()) + " bytes");
        }
        const int64_t n = ggml_nelements(src);
        if (src->type == GGML_TYPE_F32) {
            ggml_backend_tensor_set(dst, raw.data(), 0, raw.size());
        } else {
            f32.resize((size_t) n);
            ggml_get_type_traits(src->type)->to_float(raw.data(), f32.data(), n);
            ggml_backend_tensor_set(dst, f32.data(), 0, (size_t) n * sizeof(float));
        }
        tensor_order_.push_back(name);
    }
    loading_ = nullptr;
    if (options_.trainable == "all") {
        for (const std::string & name : tensor_order_) trainables_.push_back({find_tensor(name), {}, {}, {}});
    }
}

ggml_tensor * Qwen2Model::weight(const std::string & name, std::vector<int64_t> shape, bool required) {
    // A missing required tensor is an error now; shapes are compared to the file's once all exist.
    if (gguf_find_tensor(loading_, name.c_str()) < 0) {
        if (!required) return nullptr;
        throw NativeFailure("native.gguf", "model " + options_.model_path + " lacks tensor " + name +
            " (expected in a " + hp_.architecture + " model with " + std::to_string(hp_.n_layer) + " layers)");
    }
    ggml_tensor * t = nullptr;
    switch (shape.size()) {
        case 1: t = ggml_new_tensor_1d(ctx_weights_, GGML_TYPE_F32, shape[0]); break;
        default: t = ggml_new_tensor_2d(ctx_weights_, GGML_TYPE_F32, shape[0], shape[1]); break;
    }
    ggml_set_name(t, name.c_str());
    by_name_[name] = t;
    return t;
}

// ─── LoRA ─────────────────────────────────────────────────────────────────────────────────────────────────

void Qwen2Model::create_lora() {
    const LoraOptions & o = options_.lora;
    if (o.rank < 1) throw NativeFailure("native.input", "LoRA rank must be ≥ 1, got " + std::to_string(o.rank));
    if (o.targets.empty()) {
        throw NativeFailure("native.input", "LoRA targets is empty; name at least one of attn_q, attn_k, attn_v, attn_output, ffn_gate, ffn_up, ffn_down");
    }
    for (size_t i = 0; i < o.targets.size(); ++i) {
        for (size_t j = 0; j < i; ++j) {
            if (o.targets[i] == o.targets[j]) throw NativeFailure("native.input", "LoRA target \"" + o.targets[i] + "\" is listed twice");
        }
    }
    for (const std::string & t : o.targets) {
        bool known = false;
        for (const char * k : LORA_TARGETS) known = known || t == k;
        if (!known) {
            throw NativeFailure("native.input", "unknown LoRA target \"" + t +
                "\"; use attn_q, attn_k, attn_v, attn_output, ffn_gate, ffn_up, ffn_down");
        }
    }
    if (!(o.dropout >= 0.0f && o.dropout < 1.0f)) {
        throw NativeFailure("native.input", "LoRA dropout must be in [0, 1), got " + std::to_string(o.dropout));
    }
    lora_scale = o.alpha / (float) o.rank;
    lora_dropout = o.dropout;
    // LoRA tensors live in their own context + buffer (created after the weights: ctx_weights_ has no room).
    ggml_init_params p = {/*mem_size =*/ (size_t) (2 * o.targets.size() * hp_.n_layer + 8) * ggml_tensor_overhead(), nullptr, true};
    ggml_context * ctx = ggml_init(p);
    for (int il = 0; il < hp_.n_layer; ++il) {
        for (const std::string & target : o.targets) {
            const std::string wname = "blk." + std::to_string(il) + "." + target + ".weight";
            ggml_tensor * w = find_tensor(wname);
            LoraPair pair;
            pair.target = target;
            pair.layer = il;
            pair.a = ggml_new_tensor_2d(ctx, GGML_TYPE_F32, w->ne[0], o.rank);   // [n_in, r]
            pair.b = ggml_new_tensor_2d(ctx, GGML_TYPE_F32, o.rank, w->ne[1]);   // [r, n_out]
            ggml_set_name(pair.a, (wname + ".lora_a").c_str());
            ggml_set_name(pair.b, (wname + ".lora_b").c_str());
            by_name_[wname + ".lora_a"] = pair.a;
            by_name_[wname + ".lora_b"] = pair.b;
            lora.push_back(pair);
        }
    }
    ggml_backend_buffer_t buf = ggml_backend_alloc_ctx_tensors(ctx, backend_);
    if (!buf) throw NativeFailure("native.memory", "out of memory allocating LoRA tensors");
    // Owned for the model's lifetime: freed together with the weights (see the destructor's buffer frees).
    lora_ctx_ = ctx;
    lora_buf_ = buf;

    std::mt19937_64 rng(o.seed);
    for (auto & pair : lora) {
        const float bound = 1.0f / std::sqrt((float) pair.a->ne[0]);
        std::uniform_real_distribution<float> u(-bound, bound);
        std::vector<float> a((size_t) ggml_nelements(pair.a));
        for (float & x : a) x = u(rng);
        ggml_backend_tensor_set(pair.a, a.data(), 0, ggml_nbytes(pair.a));
        std::vector<float> b((size_t) ggml_nelements(pair.b), 0.0f);
        ggml_backend_tensor_set(pair.b, b.data(), 0, ggml_nbytes(pair.b));
        trainables_.push_back({pair.a, {}, {}, {}});
        trainables_.push_back({pair.b, {}, {}, {}});
    }
    if (!o.init_path.empty()) load_lora_init(o.init_path);
}

void Qwen2Model::load_lora_init(const std::string & path) {
    GgufHandle h;
    open_gguf(path, /*with_data =*/ true, h, "LoRA adapter");
    const int64_t alpha_id = gguf_find_key(h.gguf, "adapter.lora.alpha");
    if (alpha_id >= 0 && std::fabs(gguf_get_val_f32(h.gguf, alpha_id) - options_.lora.alpha) > 1e-6f) {
        throw NativeFailure("native.shape", "LoRA adapter " + path + " has alpha " + std::to_string(gguf_get_val_f32(h.gguf, alpha_id)) +
            ", the policy was created with alpha " + std::to_string(options_.lora.alpha) + "; pass the adapter's alpha");
    }
    for (auto & pair : lora) {
        for (ggml_tensor * dst : {pair.a, pair.b}) {
            ggml_tensor * src = ggml_get_tensor(h.meta, ggml_get_name(dst));
            if (!src) {
                throw NativeFailure("native.shape", "LoRA adapter " + path + " lacks tensor " + ggml_get_name(dst) +
                    "; create the policy with the adapter's rank and targets");
            }
            if (src->type != GGML_TYPE_F32 || !ggml_are_same_shape(src, dst)) {
                throw NativeFailure("native.shape", "LoRA adapter " + path + ": tensor " + ggml_get_name(dst) + " is " +
                    shape_string(src) + ", expected f32 " + shape_string(dst) + "; create the policy with the adapter's rank");
            }
            ggml_backend_tensor_set(dst, src->data, 0, ggml_nbytes(dst));
        }
    }
}

int64_t Qwen2Model::trainable_parameter_count() const {
    int64_t n = 0;
    for (const auto & t : trainables_) n += ggml_nelements(t.tensor);
    return n;
}

// ─── forward / backward ───────────────────────────────────────────────────────────────────────────────────

double Qwen2Model::run_graph(const std::vector<SequenceInput> & batch, const std::vector<std::vector<float>> * coefficients,
                             bool reference, float temperature, std::vector<std::vector<float>> & logprobs_out) {
    if (!(temperature > 0.0f)) throw NativeFailure("native.input", "temperature must be > 0, got " + std::to_string(temperature));
    if (reference && options_.trainable == "all") {
        throw NativeFailure("native.input", "reference log-probs need LoRA (the base weights stay frozen); with trainable \"all\" there is no frozen reference");
    }
    const bool training = coefficients != nullptr;
    PackedBatch packed = pack_batch(batch, hp_.n_vocab, hp_.n_ctx_train);
    const int64_t m = (int64_t) packed.rows.size();
    std::vector<float> coeff;
    if (training) {
        if (coefficients->size() != batch.size()) {
            throw NativeFailure("native.input", "coefficients has " + std::to_string(coefficients->size()) + " rows for a batch of " +
                std::to_string(batch.size()) + " sequences");
        }
        for (size_t b = 0; b < batch.size(); ++b) {
            if ((int) (*coefficients)[b].size() != packed.counts[b]) {
                throw NativeFailure("native.input", "coefficients[" + std::to_string(b) + "] has " + std::to_string((*coefficients)[b].size()) +
                    " values, sequence " + std::to_string(b) + " has " + std::to_string(packed.counts[b]) + " completion tokens");
            }
            coeff.insert(coeff.end(), (*coefficients)[b].begin(), (*coefficients)[b].end());
        }
    }
    if (m == 0) {
        logprobs_out.assign(batch.size(), {});
        return 0.0;
    }

    const size_t graph_size = 16384 + (size_t) hp_.n_layer * 512;
    ggml_init_params p = {/*mem_size =*/ graph_size * ggml_tensor_overhead() * 3 + ggml_graph_overhead_custom(graph_size, true),
                          nullptr, /*no_alloc =*/ true};
    ggml_context * ctx = ggml_init(p);
    double objective = 0.0;
    try {
        const int64_t t_start = ggml_time_us();
        GraphTensors gt = build_qwen2_graph(ctx, *this, packed, reference, temperature, training);
        ggml_cgraph * gf = ggml_new_graph_custom(ctx, graph_size, /*grads =*/ training);
        ggml_build_forward_expand(gf, training ? gt.objective : gt.logprobs);
        const int n_forward = ggml_graph_n_nodes(gf);
        std::vector<ggml_tensor *> grads(trainables_.size(), nullptr);
        if (training) {
            // The seed d objective/d objective = 1 lives in its own small buffer (as in ggml-opt, where grad
            // accumulators are static); ggml_graph_reset sets it to 1 before each compute.
            std::vector<ggml_tensor *> accs((size_t) ggml_graph_n_nodes(gf), nullptr);
            for (int i = 0; i < ggml_graph_n_nodes(gf); ++i) {
                if (ggml_graph_node(gf, i) == gt.objective) accs[(size_t) i] = seed_;
            }
            ggml_build_backward_expand(ctx, gf, accs.data());
            for (size_t i = 0; i < trainables_.size(); ++i) {
                grads[i] = ggml_graph_get_grad(gf, trainables_[i].tensor);
                if (grads[i]) ggml_set_output(grads[i]);  // keep the allocator from reusing its memory
            }
            // Softmax outputs (attention probabilities, vocabulary probabilities) are marked as outputs so that
            // ggml_gallocr never hands their memory to another tensor: the backward reads them again
            // (soft_max_back), and with them reusable the gradients came out wrong (measured against finite
            // differences). Keeping them costs nothing extra — the backward needs them anyway; every other
            // tensor still shares memory.
            for (int i = 0; i < n_forward; ++i) {
                ggml_tensor * node = ggml_graph_node(gf, i);
                if (node->op == GGML_OP_SOFT_MAX) ggml_set_output(node);
            }
        }
        // One allocator for the model's lifetime: its buffer is kept and only grows, so a step does not
        // page-fault a fresh compute buffer (hundreds of MB for a 0.5B model) every time.
        if (!galloc_) galloc_ = ggml_gallocr_new(ggml_backend_get_default_buffer_type(backend_));
        if (!ggml_gallocr_alloc_graph(galloc_, gf)) {
            throw NativeFailure("native.memory", "out of memory allocating the compute graph (" + std::to_string(packed.n_seqs) +
                " sequences × " + std::to_string(packed.n_tokens) + " tokens); use smaller batches");
        }
        ggml_backend_tensor_set(gt.tokens, packed.tokens.data(), 0, ggml_nbytes(gt.tokens));
        ggml_backend_tensor_set(gt.positions, packed.positions.data(), 0, ggml_nbytes(gt.positions));
        ggml_backend_tensor_set(gt.mask, packed.mask.data(), 0, ggml_nbytes(gt.mask));
        ggml_backend_tensor_set(gt.rows, packed.rows.data(), 0, ggml_nbytes(gt.rows));
        ggml_backend_tensor_set(gt.targets, packed.targets.data(), 0, ggml_nbytes(gt.targets));
        if (!gt.dropout_masks.empty()) {
            // Masks depend on (seed, step, call within the step) only, so a resumed run draws the same ones.
            std::mt19937_64 rng(options_.lora.seed * 0x9E3779B97F4A7C15ull + (uint64_t) step_ * 1000003ull + (uint64_t) calls_in_step_);
            std::bernoulli_distribution keep(1.0 - lora_dropout);
            const float scale = 1.0f / (1.0f - lora_dropout);
            std::vector<float> mask;
            for (ggml_tensor * t : gt.dropout_masks) {
                if (!t) continue;
                mask.resize((size_t) ggml_nelements(t));
                for (float & v : mask) v = keep(rng) ? scale : 0.0f;
                ggml_backend_tensor_set(t, mask.data(), 0, ggml_nbytes(t));
            }
        }
        if (training) {
            ++calls_in_step_;
            ggml_backend_tensor_set(gt.coefficients, coeff.data(), 0, ggml_nbytes(gt.coefficients));
            ggml_graph_reset(gf);  // d objective / d objective = 1
        }
        const int64_t t_alloc = ggml_time_us();
        if (ggml_backend_graph_compute(backend_, gf) != GGML_STATUS_SUCCESS) {
            throw NativeFailure("native.compute", "ggml graph compute failed");
        }
        if (getenv("GLRL_PROFILE")) {
            fprintf(stderr, "[glrl] %s: build+alloc %.1f ms, compute %.1f ms, %d nodes\n", training ? "train" : "forward",
                    (t_alloc - t_start) / 1000.0, (ggml_time_us() - t_alloc) / 1000.0, ggml_graph_n_nodes(gf));
        }
        std::vector<float> lp((size_t) m);
        ggml_backend_tensor_get(gt.logprobs, lp.data(), 0, lp.size() * sizeof(float));
        logprobs_out.clear();
        size_t off = 0;
        for (int c : packed.counts) {
            logprobs_out.emplace_back(lp.begin() + off, lp.begin() + off + c);
            off += c;
        }
        if (training) {
            float obj = 0.0f;
            ggml_backend_tensor_get(gt.objective, &obj, 0, sizeof(float));
            objective = obj;
            std::vector<float> tmp;
            for (size_t i = 0; i < trainables_.size(); ++i) {
                if (!grads[i]) continue;
                tmp.resize(trainables_[i].grad.size());
                ggml_backend_tensor_get(grads[i], tmp.data(), 0, tmp.size() * sizeof(float));
                float * acc = trainables_[i].grad.data();
                for (size_t j = 0; j < tmp.size(); ++j) acc[j] += tmp[j];
            }
        } else {
            for (size_t i = 0; i < lp.size(); ++i) objective += lp[i];
        }
    } catch (...) {
        ggml_free(ctx);
        throw;
    }
    ggml_free(ctx);
    return objective;
}

std::vector<std::vector<float>> Qwen2Model::logprobs(const std::vector<SequenceInput> & batch, bool reference, float temperature) {
    std::vector<std::vector<float>> out;
    run_graph(batch, nullptr, reference, temperature, out);
    return out;
}

double Qwen2Model::accumulate(const std::vector<SequenceInput> & batch, const std::vector<std::vector<float>> & coefficients,
                              float temperature, std::vector<std::vector<float>> & logprobs_out) {
    return run_graph(batch, &coefficients, /*reference =*/ false, temperature, logprobs_out);
}

// ─── AdamW ────────────────────────────────────────────────────────────────────────────────────────────────

void Qwen2Model::zero_grad() {
    for (auto & t : trainables_) std::fill(t.grad.begin(), t.grad.end(), 0.0f);
}

double Qwen2Model::step(const AdamWOptions & o) {
    double sq = 0.0;
    for (const auto & t : trainables_) for (float g : t.grad) sq += (double) g * g;
    const double norm = std::sqrt(sq);
    if (!std::isfinite(norm)) {
        zero_grad();
        throw NativeFailure("native.nan", "gradient norm is not finite; the step was skipped (lower the learning rate or check the coefficients)");
    }
    const float clip = (o.max_grad_norm > 0.0f && norm > o.max_grad_norm) ? (float) (o.max_grad_norm / (norm + 1e-6)) : 1.0f;
    ++step_;
    const float bc1 = 1.0f - (float) std::pow((double) o.beta1, (double) step_);
    const float bc2 = 1.0f - (float) std::pow((double) o.beta2, (double) step_);
    std::vector<float> copy;
    for (auto & t : trainables_) {
        // CPU buffers are host memory: update in place; other backends: through a host copy.
        const bool host = ggml_backend_buffer_is_host(t.tensor->buffer);
        float * w = host ? (float *) t.tensor->data : nullptr;
        if (!host) {
            copy.resize(t.grad.size());
            ggml_backend_tensor_get(t.tensor, copy.data(), 0, copy.size() * sizeof(float));
            w = copy.data();
        }
        const size_t n = t.grad.size();
        for (size_t j = 0; j < n; ++j) {
            const float g = t.grad[j] * clip;
            t.m[j] = o.beta1 * t.m[j] + (1.0f - o.beta1) * g;
            t.v[j] = o.beta2 * t.v[j] + (1.0f - o.beta2) * g * g;
            const float mhat = t.m[j] / bc1;
            const float vhat = t.v[j] / bc2;
            w[j] = w[j] * (1.0f - o.learning_rate * o.weight_decay) - o.learning_rate * mhat / (std::sqrt(vhat) + o.epsilon);
        }
        if (!host) ggml_backend_tensor_set(t.tensor, copy.data(), 0, copy.size() * sizeof(float));
    }
    zero_grad();
    calls_in_step_ = 0;
    return norm;
}

// ─── save ─────────────────────────────────────────────────────────────────────────────────────────────────

void Qwen2Model::save_weights(const std::string & path) const {
    size_t bytes = 0;
    for (const auto & t : trainables_) bytes += ggml_nbytes(t.tensor);
    gguf_context * g = gguf_init_empty();
    try {
        if (options_.trainable == "lora") {
            HostCopies copies(bytes, trainables_.size());
            gguf_set_val_str(g, "general.type", "adapter");
            gguf_set_val_str(g, "general.architecture", hp_.architecture.c_str());
            gguf_set_val_str(g, "adapter.type", "lora");
            gguf_set_val_f32(g, "adapter.lora.alpha", options_.lora.alpha);
            std::vector<float> tmp;
            for (const auto & t : trainables_) {
                tmp.resize((size_t) ggml_nelements(t.tensor));
                ggml_backend_tensor_get(t.tensor, tmp.data(), 0, ggml_nbytes(t.tensor));
                gguf_add_tensor(g, copies.add(ggml_get_name(t.tensor), t.tensor, tmp.data()));
            }
            write_gguf_atomically(g, path);
        } else {
            // The full model: the source's metadata + tokenizer, every weight as f32.
            GgufHandle src;
            open_gguf(options_.model_path, false, src, "model");
            gguf_set_kv(g, src.gguf);
            gguf_set_val_u32(g, "general.file_type", 0);  // LLAMA_FTYPE_ALL_F32
            size_t all_bytes = 0;
            for (const std::string & name : tensor_order_) all_bytes += ggml_nbytes(find_tensor(name));
            HostCopies copies(all_bytes, tensor_order_.size());
            std::vector<float> tmp;
            for (const std::string & name : tensor_order_) {
                const ggml_tensor * t = find_tensor(name);
                tmp.resize((size_t) ggml_nelements(t));
                ggml_backend_tensor_get(const_cast<ggml_tensor *>(t), tmp.data(), 0, ggml_nbytes(t));
                gguf_add_tensor(g, copies.add(name, t, tmp.data()));
            }
            write_gguf_atomically(g, path);
        }
    } catch (...) {
        gguf_free(g);
        throw;
    }
    gguf_free(g);
}

void Qwen2Model::save_checkpoint(const std::string & path) const {
    size_t bytes = 0;
    for (const auto & t : trainables_) bytes += 3 * ggml_nbytes(t.tensor);
    gguf_context * g = gguf_init_empty();
    try {
        HostCopies copies(bytes, 3 * trainables_.size());
        gguf_set_val_str(g, "general.type", "gl-rl.checkpoint");
        gguf_set_val_str(g, "checkpoint.trainable", options_.trainable.c_str());
        gguf_set_val_u64(g, "checkpoint.step", (uint64_t) step_);
        std::vector<float> tmp;
        for (const auto & t : trainables_) {
            const std::string name = ggml_get_name(t.tensor);
            tmp.resize(t.grad.size());
            ggml_backend_tensor_get(t.tensor, tmp.data(), 0, ggml_nbytes(t.tensor));
            gguf_add_tensor(g, copies.add(name, t.tensor, tmp.data()));
            gguf_add_tensor(g, copies.add(name + ".adam_m", t.tensor, t.m.data()));
            gguf_add_tensor(g, copies.add(name + ".adam_v", t.tensor, t.v.data()));
        }
        write_gguf_atomically(g, path);
    } catch (...) {
        gguf_free(g);
        throw;
    }
    gguf_free(g);
}

void Qwen2Model::load_checkpoint(const std::string & path) {
    GgufHandle h;
    open_gguf(path, /*with_data =*/ true, h, "checkpoint");
    const int64_t kind = gguf_find_key(h.gguf, "checkpoint.trainable");
    if (kind < 0 || options_.trainable != gguf_get_val_str(h.gguf, kind)) {
        throw NativeFailure("native.shape", "checkpoint " + path + " is not a gl-rl checkpoint of a \"" + options_.trainable +
            "\" policy; resume with the options it was written with");
    }
    // Validate everything before touching any weight: a failed load leaves the policy as it was.
    for (const auto & t : trainables_) {
        const std::string name = ggml_get_name(t.tensor);
        for (const std::string & n : {name, name + ".adam_m", name + ".adam_v"}) {
            ggml_tensor * src = ggml_get_tensor(h.meta, n.c_str());
            if (!src || src->type != GGML_TYPE_F32 || !ggml_are_same_shape(src, t.tensor)) {
                throw NativeFailure("native.shape", "checkpoint " + path + ": tensor " + n + (src ? " is " + shape_string(src) : std::string(" is missing")) +
                    ", the policy has " + shape_string(t.tensor) + "; resume with the model, rank and targets it was written with");
            }
        }
    }
    for (auto & t : trainables_) {
        const std::string name = ggml_get_name(t.tensor);
        ggml_backend_tensor_set(t.tensor, ggml_get_tensor(h.meta, name.c_str())->data, 0, ggml_nbytes(t.tensor));
        std::memcpy(t.m.data(), ggml_get_tensor(h.meta, (name + ".adam_m").c_str())->data, ggml_nbytes(t.tensor));
        std::memcpy(t.v.data(), ggml_get_tensor(h.meta, (name + ".adam_v").c_str())->data, ggml_nbytes(t.tensor));
    }
    step_ = (int64_t) gguf_get_val_u64(h.gguf, gguf_find_key(h.gguf, "checkpoint.step"));
    zero_grad();       // checkpoints are taken between steps: no gradient is pending
    calls_in_step_ = 0;
}

// ─── test access ──────────────────────────────────────────────────────────────────────────────────────────

std::vector<std::string> Qwen2Model::trainable_names() const {
    std::vector<std::string> names;
    for (const auto & t : trainables_) names.push_back(ggml_get_name(t.tensor));
    return names;
}

std::vector<float> Qwen2Model::get_tensor(const std::string & name) const {
    ggml_tensor * t = find_tensor(name);
    if (!t) throw NativeFailure("native.input", "no tensor named " + name);
    std::vector<float> out((size_t) ggml_nelements(t));
    ggml_backend_tensor_get(t, out.data(), 0, ggml_nbytes(t));
    return out;
}

void Qwen2Model::set_tensor(const std::string & name, const std::vector<float> & values) {
    ggml_tensor * t = find_tensor(name);
    if (!t) throw NativeFailure("native.input", "no tensor named " + name);
    if ((int64_t) values.size() != ggml_nelements(t)) {
        throw NativeFailure("native.shape", "tensor " + name + " is " + shape_string(t) + " (" + std::to_string(ggml_nelements(t)) +
            " floats), got " + std::to_string(values.size()));
    }
    ggml_backend_tensor_set(t, values.data(), 0, ggml_nbytes(t));
}

std::vector<float> Qwen2Model::get_grad(const std::string & name) const {
    for (const auto & t : trainables_) {
        if (name == ggml_get_name(t.tensor)) return t.grad;
    }
    throw NativeFailure("native.input", "no trainable tensor named " + name);
}

}  // namespace glrl
