// LoRA adapters of a Qwen2Model: creating them, reading their shape from an adapter GGUF, the frozen reference
// copy, and writing them as llama.cpp reads them (docs/native.md, "LoRA").
//
//   - Fresh: A ~ U(−1/√n_in, 1/√n_in) (PEFT's kaiming_uniform(a=√5)), B = 0, scale = alpha/rank; defaults
//     r 8, alpha 16, all seven targets (the TS layer passes size-dependent defaults).
//   - From an adapter (lora.init_path): rank from the tensor shapes, alpha from adapter.lora.alpha (absent:
//     alpha = rank, i.e. scale 1, as llama.cpp), targets and layers from the tensor names
//     "blk.N.<target>.weight.lora_a|lora_b". A tensor this model cannot take (another name, a layer it lacks, a
//     shape that does not fit, a lone A or B, mixed ranks) is an error, as is an explicit option that disagrees.
//   - Reference (GRPO's KL): a frozen copy of the adapter as loaded; none for a fresh LoRA (B = 0: the base).
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <memory>
#include <random>
#include <set>

#include "ggml-alloc.h"
#include "qwen2Model.h"

namespace glrl {

namespace {

const char * LORA_TARGETS[] = {"attn_q", "attn_k", "attn_v", "attn_output", "ffn_gate", "ffn_up", "ffn_down"};

int target_index(const std::string & t) {
    for (int i = 0; i < 7; ++i) {
        if (t == LORA_TARGETS[i]) return i;
    }
    return -1;
}

std::string targets_string(const std::vector<std::string> & targets) {
    std::string s;
    for (const auto & t : targets) s += (s.empty() ? "" : ", ") + t;
    return "[" + s + "]";
}

// The (layer, target) pairs an adapter file holds, with its rank and alpha; everything checked against the model.
struct AdapterShape {
    std::set<std::pair<int, int>> pairs;   // (layer, target index)
    int rank = 0;
    float alpha = 0.0f;
    std::vector<std::string> targets;      // in LORA_TARGETS order
};

AdapterShape read_adapter_shape(const GgufFile & f, const Qwen2Model & model,
                                const std::map<std::string, ggml_tensor *> & weights) {
    const std::string type = f.get_string("general.type", "adapter");
    const std::string kind = f.get_string("adapter.type", "lora");
    if (type != "adapter" || kind != "lora") {
        f.fail("native.gguf", "is not a LoRA adapter (general.type \"" + type + "\", adapter.type \"" + kind + "\")");
    }
    const std::string arch = f.get_string("general.architecture", model.hparams().architecture);
    if (arch != model.hparams().architecture) {
        f.fail("native.shape", "is an adapter for " + arch + ", the model is " + model.hparams().architecture);
    }
    AdapterShape shape;
    std::map<std::pair<int, int>, int> seen;   // pair → bit 1 = A, bit 2 = B
    const int64_t n = gguf_get_n_tensors(f.gguf());
    for (int64_t i = 0; i < n; ++i) {
        const std::string name = gguf_get_tensor_name(f.gguf(), i);
        const ggml_tensor * t = f.tensor(name);
        int layer = -1;
        char rest[96] = {0};
        const bool parsed = std::sscanf(name.c_str(), "blk.%d.%95s", &layer, rest) == 2;
        std::string tail = parsed ? rest : "";
        const std::string suffix_a = ".weight.lora_a", suffix_b = ".weight.lora_b";
        const size_t n_suffix = suffix_a.size();
        const bool is_a = tail.size() > n_suffix && tail.compare(tail.size() - n_suffix, n_suffix, suffix_a) == 0;
        const bool is_b = tail.size() > n_suffix && tail.compare(tail.size() - n_suffix, n_suffix, suffix_b) == 0;
        const std::string target = (is_a || is_b) ? tail.substr(0, tail.size() - n_suffix) : "";
        const int ti = target_index(target);
        if (!parsed || (!is_a && !is_b) || ti < 0 || layer < 0 || layer >= model.hparams().n_layer) {
            f.fail("native.shape", "holds tensor " + name + ", which this " + std::to_string(model.hparams().n_layer) +
                "-layer model cannot take (expected blk.<0…" + std::to_string(model.hparams().n_layer - 1) +
                ">.<attn_q|attn_k|attn_v|attn_output|ffn_gate|ffn_up|ffn_down>.weight.lora_a|lora_b)");
        }
        const ggml_tensor * w = weights.at("blk." + std::to_string(layer) + "." + target + ".weight");
        const ggml_type_traits * tr = ggml_get_type_traits(t->type);
        const int64_t r = is_a ? t->ne[1] : t->ne[0];
        const bool fits = ggml_n_dims(t) == 2 && (is_a ? t->ne[0] == w->ne[0] : t->ne[1] == w->ne[1]) && r >= 1;
        if (!fits || (t->type != GGML_TYPE_F32 && (!tr || !tr->to_float))) {
            f.fail("native.shape", "has tensor " + name + " of shape " + shape_string(t) + " (" + (tr ? tr->type_name : "?") +
                "); for " + ggml_get_name(w) + " " + shape_string(w) + " it must be " +
                (is_a ? "[" + std::to_string(w->ne[0]) + ", r]" : "[r, " + std::to_string(w->ne[1]) + "]"));
        }
        if (shape.rank == 0) shape.rank = (int) r;
        if (r != shape.rank) {
            f.fail("native.shape", "mixes LoRA ranks (" + std::to_string(shape.rank) + " and " + std::to_string(r) + " at " + name +
                "); one rank per adapter is supported");
        }
        seen[{layer, ti}] |= is_a ? 1 : 2;
    }
    for (const auto & [pair, bits] : seen) {
        if (bits != 3) {
            f.fail("native.shape", "has blk." + std::to_string(pair.first) + "." + LORA_TARGETS[pair.second] + ".weight.lora_" +
                (bits == 1 ? "a without its lora_b" : "b without its lora_a"));
        }
        shape.pairs.insert(pair);
    }
    if (shape.pairs.empty()) f.fail("native.shape", "holds no LoRA tensors");
    shape.alpha = (float) f.get_float("adapter.lora.alpha", (double) shape.rank);
    for (int ti = 0; ti < 7; ++ti) {
        for (const auto & pair : shape.pairs) {
            if (pair.second == ti) {
                shape.targets.push_back(LORA_TARGETS[ti]);
                break;
            }
        }
    }
    return shape;
}

}  // namespace

void Qwen2Model::create_lora() {
    LoraOptions & o = options_.lora;
    if (!(o.dropout >= 0.0f && o.dropout < 1.0f)) {
        throw NativeFailure("native.input", "LoRA dropout must be in [0, 1), got " + std::to_string(o.dropout));
    }
    if (o.targets_set) {
        if (o.targets.empty()) {
            throw NativeFailure("native.input", "LoRA targets is empty; name at least one of attn_q, attn_k, attn_v, attn_output, ffn_gate, ffn_up, ffn_down");
        }
        for (size_t i = 0; i < o.targets.size(); ++i) {
            if (target_index(o.targets[i]) < 0) {
                throw NativeFailure("native.input", "unknown LoRA target \"" + o.targets[i] +
                    "\"; use attn_q, attn_k, attn_v, attn_output, ffn_gate, ffn_up, ffn_down");
            }
            for (size_t j = 0; j < i; ++j) {
                if (o.targets[i] == o.targets[j]) throw NativeFailure("native.input", "LoRA target \"" + o.targets[i] + "\" is listed twice");
            }
        }
    }
    if (o.rank < 0) throw NativeFailure("native.input", "LoRA rank must be ≥ 1, got " + std::to_string(o.rank));

    std::set<std::pair<int, int>> pairs;
    std::unique_ptr<GgufFile> adapter;
    if (!o.init_path.empty()) {
        adapter = std::make_unique<GgufFile>(o.init_path, /*with_data =*/ true, "LoRA adapter");
        AdapterShape shape = read_adapter_shape(*adapter, *this, by_name_);
        const std::string from = "; the adapter's shape rules (omit the option or pass the adapter's value)";
        if (o.rank != 0 && o.rank != shape.rank) {
            adapter->fail("native.shape", "has rank " + std::to_string(shape.rank) + ", the options say rank " + std::to_string(o.rank) + from);
        }
        if (!std::isnan(o.alpha) && std::fabs(o.alpha - shape.alpha) > 1e-6f * std::max(1.0f, std::fabs(shape.alpha))) {
            adapter->fail("native.shape", "has alpha " + std::to_string(shape.alpha) + ", the options say alpha " + std::to_string(o.alpha) + from);
        }
        if (o.targets_set) {
            std::vector<std::string> given = o.targets;
            std::sort(given.begin(), given.end());
            std::vector<std::string> have = shape.targets;
            std::sort(have.begin(), have.end());
            if (given != have) {
                adapter->fail("native.shape", "adapts " + targets_string(shape.targets) + ", the options say " + targets_string(o.targets) + from);
            }
        }
        o.rank = shape.rank;
        o.alpha = shape.alpha;
        o.targets = shape.targets;
        pairs = shape.pairs;
    } else {
        if (o.rank == 0) o.rank = 8;
        if (std::isnan(o.alpha)) o.alpha = 16.0f;
        if (!o.targets_set) o.targets.assign(std::begin(LORA_TARGETS), std::end(LORA_TARGETS));
        for (int il = 0; il < hp_.n_layer; ++il) {
            for (const std::string & t : o.targets) pairs.insert({il, target_index(t)});
        }
    }
    o.targets_set = true;
    lora_scale = o.alpha / (float) o.rank;
    lora_dropout = o.dropout;

    // Trainable pairs (and, from an adapter, their frozen reference copies), layer-major in target order.
    auto make_pairs = [&](Arena & arena, const char * suffix) {
        ggml_init_params p = {/*mem_size =*/ (2 * pairs.size() + 8) * ggml_tensor_overhead(), nullptr, /*no_alloc =*/ true};
        arena.ctx = ggml_init(p);
        std::vector<LoraPair> out;
        for (const auto & [layer, ti] : pairs) {
            const std::string wname = "blk." + std::to_string(layer) + "." + LORA_TARGETS[ti] + ".weight";
            const ggml_tensor * w = find_tensor(wname);
            LoraPair pair;
            pair.target = LORA_TARGETS[ti];
            pair.layer = layer;
            pair.a = ggml_new_tensor_2d(arena.ctx, GGML_TYPE_F32, w->ne[0], o.rank);   // [n_in, r]
            pair.b = ggml_new_tensor_2d(arena.ctx, GGML_TYPE_F32, o.rank, w->ne[1]);   // [r, n_out]
            ggml_set_name(pair.a, (wname + ".lora_a" + suffix).c_str());
            ggml_set_name(pair.b, (wname + ".lora_b" + suffix).c_str());
            out.push_back(pair);
        }
        arena.buf = ggml_backend_alloc_ctx_tensors_from_buft(arena.ctx, buft_);
        if (!arena.buf) throw NativeFailure("native.memory", "out of " + device() + " memory allocating LoRA tensors");
        return out;
    };
    lora = make_pairs(lora_, "");
    for (const auto & pair : lora) {
        by_name_[ggml_get_name(pair.a)] = pair.a;
        by_name_[ggml_get_name(pair.b)] = pair.b;
        trainables_.push_back({pair.a, nullptr, nullptr, nullptr});
        trainables_.push_back({pair.b, nullptr, nullptr, nullptr});
    }
    if (adapter) {
        reference_lora = make_pairs(reference_, ".reference");
        std::vector<float> values;
        for (size_t i = 0; i < lora.size(); ++i) {
            for (int k = 0; k < 2; ++k) {
                ggml_tensor * dst = k == 0 ? lora[i].a : lora[i].b;
                const ggml_tensor * src = adapter->tensor(ggml_get_name(dst));
                values.resize((size_t) ggml_nelements(src));
                if (src->type == GGML_TYPE_F32) std::memcpy(values.data(), src->data, ggml_nbytes(src));
                else ggml_get_type_traits(src->type)->to_float(src->data, values.data(), ggml_nelements(src));
                ggml_backend_tensor_set(dst, values.data(), 0, ggml_nbytes(dst));
                ggml_backend_tensor_set(k == 0 ? reference_lora[i].a : reference_lora[i].b, values.data(), 0, ggml_nbytes(dst));
            }
        }
        return;
    }
    std::mt19937_64 rng(o.seed);
    for (auto & pair : lora) {
        const float bound = 1.0f / std::sqrt((float) pair.a->ne[0]);
        std::uniform_real_distribution<float> u(-bound, bound);
        std::vector<float> a((size_t) ggml_nelements(pair.a));
        for (float & x : a) x = u(rng);
        ggml_backend_tensor_set(pair.a, a.data(), 0, ggml_nbytes(pair.a));
        ggml_backend_tensor_memset(pair.b, 0, 0, ggml_nbytes(pair.b));
    }
}

// ─── saving ───────────────────────────────────────────────────────────────────────────────────────────────

namespace {

// A host context holding f32 copies of tensors, so gguf_add_tensor can write them.
struct HostCopies {
    ggml_context * ctx = nullptr;
    HostCopies(size_t bytes, size_t n_tensors) {
        ggml_init_params p = {/*mem_size =*/ bytes + n_tensors * (ggml_tensor_overhead() + 64) + 1024, nullptr, /*no_alloc =*/ false};
        ctx = ggml_init(p);
        if (!ctx) throw NativeFailure("native.memory", "out of memory allocating " + std::to_string(bytes) + " bytes for a save");
    }
    ~HostCopies() { ggml_free(ctx); }
    // A copy of a device tensor (any type) under `name`.
    ggml_tensor * add(const std::string & name, const ggml_tensor * t) {
        ggml_tensor * c = ggml_new_tensor(ctx, t->type, ggml_n_dims(t), t->ne);
        ggml_set_name(c, name.c_str());
        ggml_backend_tensor_get(t, c->data, 0, ggml_nbytes(t));
        return c;
    }
};

}  // namespace

void Qwen2Model::save_weights(const std::string & path) const {
    gguf_context * g = gguf_init_empty();
    try {
        if (options_.trainable == "lora") {
            size_t bytes = 0;
            for (const auto & t : trainables_) bytes += ggml_nbytes(t.tensor);
            HostCopies copies(bytes, trainables_.size());
            gguf_set_val_str(g, "general.type", "adapter");
            gguf_set_val_str(g, "general.architecture", hp_.architecture.c_str());
            gguf_set_val_str(g, "adapter.type", "lora");
            gguf_set_val_f32(g, "adapter.lora.alpha", options_.lora.alpha);
            for (const auto & t : trainables_) gguf_add_tensor(g, copies.add(ggml_get_name(t.tensor), t.tensor));
            write_gguf_atomically(g, path);
        } else {
            // The full model: the source's metadata + tokenizer, every weight as f32.
            GgufFile src(options_.model_path, false, "model");
            gguf_set_kv(g, src.gguf());
            gguf_set_val_u32(g, "general.file_type", 0);  // LLAMA_FTYPE_ALL_F32
            size_t bytes = 0;
            for (const std::string & name : tensor_order_) bytes += ggml_nbytes(find_tensor(name));
            HostCopies copies(bytes, tensor_order_.size());
            for (const std::string & name : tensor_order_) gguf_add_tensor(g, copies.add(name, find_tensor(name)));
            write_gguf_atomically(g, path);
        }
    } catch (...) {
        gguf_free(g);
        throw;
    }
    gguf_free(g);
}

}  // namespace glrl
