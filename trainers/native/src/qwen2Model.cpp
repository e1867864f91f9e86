// Qwen2Model: loading (qwen2Load.cpp, qwen2Lora.cpp) and forward(+backward) graphs through one ggml_backend_sched.
//
// Per call (run_graph): pack the batch (qwen2Graph.cpp) → build the forward graph (+ the objective Σ c·log p)
// → ggml's autodiff with the trainables' gradient accumulators (device tensors that persist across calls) →
// rewrite its OUT_PRODs into mul_mats (backwardRewrite.cpp) → place the inputs in a persistent device buffer
// → sched_reset + sched_alloc_graph (compute buffers are kept and grow to the largest call) → set the inputs
// → compute. With a coefficient function, the scheduler's eval callback stops at the log-probs node (the
// forward is done, nothing of the backward has run: every backward node depends on the coefficients), the
// function runs, the coefficients are set, and the same graph continues: one forward, one backward.
//
//   - LoRA dropout (accumulate only): the LoRA branch reads x ⊙ mask, mask ∈ {0, 1/(1−p)} drawn from
//     (seed, step, call index within the step) so that a run resumed from a checkpoint draws the same masks.
//   - step, checkpoints and test access: qwen2Step.cpp.
//   - GLRL_PROFILE=1 in the environment prints build/alloc and compute times, the compute buffer and the placement of
//     every graph to stderr; GLRL_PROFILE=2 computes node by node and sums the time per op type (and per shape with
//     GLRL_PROFILE_SHAPES=1) — the per-node synchronisation inflates small ops.
#include "qwen2Model.h"

#include <algorithm>
#include <cstring>
#include <exception>
#include <map>
#include <random>

#include "backwardRewrite.h"
#include "cpuBlas.h"
#include "ggml-alloc.h"
#include "ggmlBackends.h"
#include "qwen2Graph.h"
#include "qwen2Head.h"

namespace glrl {

void Qwen2Model::Arena::free() {
    if (buf) ggml_backend_buffer_free(buf);
    if (ctx) ggml_free(ctx);
    buf = nullptr;
    ctx = nullptr;
}

Qwen2Model::Qwen2Model(const ModelOptions & options) : options_(options) {
    if (options_.trainable != "lora" && options_.trainable != "all") {
        throw NativeFailure("native.input", "trainable must be \"lora\" or \"all\", got \"" + options_.trainable + "\"");
    }
    if (options_.n_threads < 1) throw NativeFailure("native.input", "threads must be ≥ 1, got " + std::to_string(options_.n_threads));
    if (options_.head_chunk < 0) throw NativeFailure("native.input", "headChunk must be ≥ 1 (positions), got " + std::to_string(options_.head_chunk));
    if (options_.share_prompts != "auto" && options_.share_prompts != "always" && options_.share_prompts != "never") {
        throw NativeFailure("native.input", "sharePrompts must be \"auto\", \"always\" or \"never\", got \"" + options_.share_prompts + "\"");
    }
    try {
        {
            // The layer count sizes the scheduler: read the header before creating it.
            GgufFile f(options_.model_path, /*with_data =*/ false, "model");
            read_hparams(f);
        }
        init_backends();
        load_gguf();
        if (options_.trainable == "lora") create_lora();
        create_trainable_state();
    } catch (...) {
        free_all();
        throw;
    }
}

Qwen2Model::~Qwen2Model() { free_all(); }

void Qwen2Model::free_all() {
    if (sched_) ggml_backend_sched_free(sched_);
    sched_ = nullptr;
    if (inputs_) ggml_backend_buffer_free(inputs_);
    inputs_ = nullptr;
    for (Arena * a : {&dropout_pool_, &optimizer_, &grads_, &reference_, &lora_, &transposes_, &weights_}) a->free();
    dropout_pool = nullptr;
    if (gpu_backend_) ggml_backend_free(gpu_backend_);
    if (cpu_backend_) free_cpu_threadpool(cpu_backend_, cpu_pool_);
    cpu_pool_ = nullptr;
    if (cpu_backend_) ggml_backend_free(cpu_backend_);
    gpu_backend_ = cpu_backend_ = nullptr;
}

void Qwen2Model::create_trainable_state() {
    ggml_init_params p = {/*mem_size =*/ (3 * trainables_.size() + 8) * ggml_tensor_overhead(), nullptr, /*no_alloc =*/ true};
    grads_.ctx = ggml_init(p);
    optimizer_.ctx = ggml_init(p);
    for (auto & t : trainables_) {
        ggml_set_param(t.tensor);
        t.grad = ggml_dup_tensor(grads_.ctx, t.tensor);
        t.m = ggml_dup_tensor(optimizer_.ctx, t.tensor);
        t.v = ggml_dup_tensor(optimizer_.ctx, t.tensor);
        ggml_format_name(t.grad, "%s.grad", ggml_get_name(t.tensor));
    }
    seed_ = ggml_new_tensor_1d(optimizer_.ctx, GGML_TYPE_F32, 1);
    adamw_params_ = ggml_new_tensor_1d(optimizer_.ctx, GGML_TYPE_F32, 7);
    grads_.buf = trainables_.empty() ? nullptr : ggml_backend_alloc_ctx_tensors_from_buft(grads_.ctx, buft_);
    optimizer_.buf = ggml_backend_alloc_ctx_tensors_from_buft(optimizer_.ctx, buft_);
    if ((!grads_.buf && !trainables_.empty()) || !optimizer_.buf) {
        throw NativeFailure("native.memory", "out of " + device() + " memory for the gradients and AdamW moments");
    }
    if (grads_.buf) ggml_backend_buffer_clear(grads_.buf, 0);
    ggml_backend_buffer_clear(optimizer_.buf, 0);
    const float one = 1.0f;
    ggml_backend_tensor_set(seed_, &one, 0, sizeof(one));
}

std::string Qwen2Model::device() const { return device_label(gpu_dev_ ? gpu_dev_ : ggml_backend_get_device(cpu_backend_)); }

std::map<std::string, int> Qwen2Model::weight_types() const { return weight_types_; }

int64_t Qwen2Model::head_chunk() const {
    if (options_.head_chunk > 0) return options_.head_chunk;
    const ggml_tensor * head = output ? output : tok_embd;
    const bool packed = products_ == ProductTarget::cpu_blas && head->type == GGML_TYPE_F32;
    return default_head_chunk(hp_.n_vocab, packed ? 128ll << 20 : 16ll << 20);
}

std::string Qwen2Model::cpu_blas() const { return products_ == ProductTarget::cpu_blas ? cpu_blas_name() : std::string(); }

bool Qwen2Model::device_memory(size_t & free, size_t & total) const {
    if (!gpu_dev_) return false;
    ggml_backend_dev_memory(gpu_dev_, &free, &total);
    return true;
}

void Qwen2Model::set_threads(int n_threads) {
    if (n_threads < 1) throw NativeFailure("native.input", "threads must be ≥ 1, got " + std::to_string(n_threads));
    options_.n_threads = n_threads;
    set_backend_threads(cpu_backend_, n_threads);
    free_cpu_threadpool(cpu_backend_, cpu_pool_);
    cpu_pool_ = make_cpu_threadpool(cpu_backend_, n_threads, /*poll =*/ 0);
}

ggml_tensor * Qwen2Model::find_tensor(const std::string & name) const {
    auto it = by_name_.find(name);
    return it == by_name_.end() ? nullptr : it->second;
}

const TrainableTensor * Qwen2Model::find_trainable(const std::string & name) const {
    for (const auto & t : trainables_) {
        if (name == ggml_get_name(t.tensor)) return &t;
    }
    return nullptr;
}

int64_t Qwen2Model::trainable_parameter_count() const {
    int64_t n = 0;
    for (const auto & t : trainables_) n += ggml_nelements(t.tensor);
    return n;
}

// ─── forward / backward ───────────────────────────────────────────────────────────────────────────────────

namespace {

// GLRL_PROFILE=2: the scheduler computes node by node and the time of each op type is summed (stderr).
struct OpProfile {
    std::map<std::string, std::pair<double, int>> by_op;   // "MUL_MAT f32" → (ms, count)
    int64_t last = 0;
    static bool callback(ggml_tensor * t, bool ask, void * user) {
        auto * self = static_cast<OpProfile *>(user);
        if (ask) {
            if (self->last == 0) self->last = ggml_time_us();
            return true;
        }
        const int64_t now = ggml_time_us();
        std::string key = std::string(ggml_op_desc(t)) + (t->src[0] ? std::string(" ") + ggml_type_name(t->src[0]->type) : "");
        if (getenv("GLRL_PROFILE_SHAPES") && t->src[0] && t->src[1]) {
            key += " [" + std::to_string(t->src[0]->ne[0]) + "," + std::to_string(t->src[0]->ne[1]) + "," + std::to_string(t->src[0]->ne[2]) +
                   "]x[" + std::to_string(t->src[1]->ne[0]) + "," + std::to_string(t->src[1]->ne[1]) + "," + std::to_string(t->src[1]->ne[2]) + "]";
        }
        auto & slot = self->by_op[key];
        slot.first += (now - self->last) / 1000.0;
        slot.second += 1;
        self->last = now;
        return true;
    }
    void print() const {
        std::vector<std::pair<double, std::string>> rows;
        for (const auto & [op, v] : by_op) rows.push_back({v.first, op + " ×" + std::to_string(v.second)});
        std::sort(rows.rbegin(), rows.rend());
        for (size_t i = 0; i < rows.size() && i < 30; ++i) fprintf(stderr, "[glrl]   %8.2f ms  %s\n", rows[i].first, rows[i].second.c_str());
    }
};

// The scheduler's eval callback while a coefficient function waits for the log-probs.
struct CoefficientStop {
    ggml_tensor * logprobs = nullptr, * coefficients = nullptr;
    const CoefficientFn * fn = nullptr;
    const std::vector<int> * counts = nullptr;
    std::vector<std::vector<float>> logprobs_out;
    std::exception_ptr error;

    static bool callback(ggml_tensor * t, bool ask, void * user) {
        auto * self = static_cast<CoefficientStop *>(user);
        if (ask) return t == self->logprobs;
        try {
            std::vector<float> lp((size_t) ggml_nelements(t));
            ggml_backend_tensor_get(t, lp.data(), 0, lp.size() * sizeof(float));
            size_t off = 0;
            for (int c : *self->counts) {
                self->logprobs_out.emplace_back(lp.begin() + off, lp.begin() + off + c);
                off += c;
            }
            std::vector<std::vector<float>> c = (*self->fn)(self->logprobs_out);
            std::vector<float> flat;
            if (c.size() != self->counts->size()) {
                throw NativeFailure("native.input", "the coefficient function returned " + std::to_string(c.size()) +
                    " rows for a batch of " + std::to_string(self->counts->size()) + " sequences");
            }
            for (size_t b = 0; b < c.size(); ++b) {
                if ((int) c[b].size() != (*self->counts)[b]) {
                    throw NativeFailure("native.input", "the coefficient function returned " + std::to_string(c[b].size()) +
                        " values for sequence " + std::to_string(b) + ", which has " + std::to_string((*self->counts)[b]) + " completion tokens");
                }
                flat.insert(flat.end(), c[b].begin(), c[b].end());
            }
            ggml_backend_tensor_set(self->coefficients, flat.data(), 0, flat.size() * sizeof(float));
            return true;
        } catch (...) {
            self->error = std::current_exception();
            return false;   // stops the compute before any backward node: the gradients stay as they were
        }
    }
};

}  // namespace

double Qwen2Model::run_graph(const std::vector<SequenceInput> & batch, const std::vector<std::vector<float>> * coefficients,
                             const CoefficientFn * coefficient_fn, bool reference, float temperature,
                             std::vector<std::vector<float>> & logprobs_out) {
    if (!(temperature > 0.0f) || !std::isfinite(temperature)) {
        throw NativeFailure("native.input", "temperature must be > 0, got " + std::to_string(temperature));
    }
    if (reference && options_.trainable == "all") {
        throw NativeFailure("native.input", "reference log-probs need LoRA (the base weights stay frozen); with trainable \"all\" there is no frozen reference");
    }
    const bool training = coefficients != nullptr || coefficient_fn != nullptr;
    const PromptSharing sharing = options_.share_prompts == "always" ? PromptSharing::always
                                : options_.share_prompts == "never"  ? PromptSharing::never
                                                                     : PromptSharing::cheaper;
    PackedBatch packed = pack_batch(batch, hp_, sharing);
    const int64_t m = (int64_t) packed.rows.size();
    std::vector<float> coeff;
    if (coefficients) {
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
        if (coefficient_fn) (*coefficient_fn)(logprobs_out);
        return 0.0;
    }

    if (training && !reference && options_.trainable == "lora" && lora_dropout > 0.0f) {
        int64_t widest = 0;
        for (const auto & pair : lora) widest = std::max(widest, pair.a->ne[0]);
        ensure_dropout_pool(widest * packed.n_tokens * packed.n_rows);
    }
    ggml_init_params p = {/*mem_size =*/ graph_size_ * ggml_tensor_overhead() * 4 + 2 * ggml_graph_overhead_custom(graph_size_, true),
                          nullptr, /*no_alloc =*/ true};
    ggml_context * ctx = ggml_init(p);
    double objective = 0.0;
    try {
        const int64_t t_start = ggml_time_us();
        const std::vector<LoraPair> * pairs = reference ? &reference_lora : (options_.trainable == "lora" ? &lora : nullptr);
        const int64_t chunk = balanced_head_chunk(m, head_chunk());
        GraphTensors gt = build_qwen2_graph(ctx, *this, packed, pairs, temperature, training, coefficient_fn != nullptr, chunk);
        ggml_cgraph * graph = ggml_new_graph_custom(ctx, graph_size_, /*grads =*/ training);
        ggml_build_forward_expand(graph, training ? gt.loss : gt.logprobs);
        const int n_forward = ggml_graph_n_nodes(graph);
        // The head chunk by chunk — its log-probs, then (training) its gradient — so that one chunk's [V, m]
        // tensors live at a time (qwen2Head.cpp); then the rest.
        std::vector<ggml_tensor *> roots;
        if (training) {
            // Gradient accumulators: the trainables' device tensors (they add up over calls until step()), and
            // the seed d loss/d loss = 1 for the loss.
            std::vector<ggml_tensor *> accs((size_t) ggml_graph_n_nodes(graph), nullptr);
            for (int i = 0; i < ggml_graph_n_nodes(graph); ++i) {
                ggml_tensor * node = ggml_graph_node(graph, i);
                if (node == gt.loss) accs[(size_t) i] = seed_;
                for (const auto & t : trainables_) {
                    if (node == t.tensor) accs[(size_t) i] = t.grad;
                }
            }
            ggml_build_backward_expand(ctx, graph, accs.data());
            if (options_.recompute) recompute_layers(ctx, graph, n_forward, gt.checkpoints);
            else recompute_in_backward(ctx, graph, n_forward);
            // The head's backward, written out after the autodiff (which saw its placeholder as a constant): the
            // placeholder becomes a copy of the chunks' gradients.
            build_head_backward(ctx, gt.head, gt.head_coefficients, /*recompute =*/ coefficient_fn != nullptr);
            ggml_tensor * head_grad = head_input_grad(ctx, gt.head);
            gt.head_grad->op = head_grad->op;   // GGML_OP_CONT: no parameters
            std::copy(std::begin(head_grad->src), std::end(head_grad->src), std::begin(gt.head_grad->src));
            for (const HeadChunk & c : gt.head.chunks) roots.insert(roots.end(), {c.logprobs, c.grad});
            roots.insert(roots.end(), {gt.logprobs, gt.objective});
            // The gradients from the last trainable to the first (the last layer's first): see rewrite_backward. A
            // trained head's (trainable "all") adds the head's part after the autodiff's.
            for (auto t = trainables_.rbegin(); t != trainables_.rend(); ++t) {
                ggml_tensor * grad = ggml_graph_get_grad(graph, t->tensor);
                if (t->tensor == gt.head.weight) grad = add_head_weight_grad(ctx, gt.head, grad ? grad : t->grad);
                roots.push_back(grad);
            }
        } else {
            for (const HeadChunk & c : gt.head.chunks) roots.push_back(c.logprobs);
            roots.push_back(gt.logprobs);
        }
        if (training || gpu_backend_ == nullptr) {
            graph = rewrite_backward(ctx, roots, {transposed, frozen_matrices, arange}, graph_size_, products_);
        }

        // Inputs live in one persistent device buffer (unallocated inputs would be copied from the host).
        size_t need = 0;
        const size_t align = ggml_backend_buft_get_alignment(buft_);
        for (ggml_tensor * t : gt.inputs) need += GGML_PAD(ggml_backend_buft_get_alloc_size(buft_, t), align);
        if (!inputs_ || ggml_backend_buffer_get_size(inputs_) < need) {
            if (inputs_) ggml_backend_buffer_free(inputs_);
            inputs_ = ggml_backend_buft_alloc_buffer(buft_, need + need / 4);
            if (!inputs_) throw NativeFailure("native.memory", "out of " + device() + " memory for the inputs of a batch of " + std::to_string(batch.size()));
        }
        char * base = (char *) ggml_backend_buffer_get_base(inputs_);
        size_t offset = 0;
        for (ggml_tensor * t : gt.inputs) {
            ggml_backend_tensor_alloc(inputs_, t, base + offset);
            offset += GGML_PAD(ggml_backend_buft_get_alloc_size(buft_, t), align);
        }

        scheduler_for_next_graph();
        CoefficientStop stop;
        OpProfile op_profile;
        if (coefficient_fn) {
            stop = {gt.logprobs, gt.coefficients, coefficient_fn, &packed.counts, {}, nullptr};
            ggml_backend_sched_set_eval_callback(sched_, &CoefficientStop::callback, &stop);
        } else if (getenv("GLRL_PROFILE") && std::string(getenv("GLRL_PROFILE")) == "2") {
            ggml_backend_sched_set_eval_callback(sched_, &OpProfile::callback, &op_profile);
        } else {
            ggml_backend_sched_set_eval_callback(sched_, nullptr, nullptr);
        }
        if (!ggml_backend_sched_alloc_graph(sched_, graph)) {
            throw NativeFailure("native.memory", "out of " + device() + " memory allocating the compute graph (" +
                std::to_string(packed.n_rows) + " rows × " + std::to_string(packed.n_tokens) + " tokens); use smaller batches");
        }
        ggml_backend_t on_device = gpu_backend_ ? gpu_backend_ : cpu_backend_;
        placement_ = {ggml_graph_n_nodes(graph), 0, ggml_backend_sched_get_n_splits(sched_), (int) batch.size(), packed.n_rows, packed.n_tokens,
                      ggml_backend_sched_get_buffer_size(sched_, on_device), {}};
        for (int i = 0; i < placement_.n_nodes; ++i) {
            ggml_tensor * node = ggml_graph_node(graph, i);
            if (ggml_backend_sched_get_tensor_backend(sched_, node) == on_device) ++placement_.n_on_device;
            else if (gpu_backend_ && node->op != GGML_OP_VIEW && node->op != GGML_OP_RESHAPE && node->op != GGML_OP_PERMUTE &&
                     node->op != GGML_OP_TRANSPOSE) {
                placement_.cpu_ops.insert(ggml_op_desc(node));
            }
        }

        ggml_backend_tensor_set(gt.tokens, packed.tokens.data(), 0, ggml_nbytes(gt.tokens));
        ggml_backend_tensor_set(gt.positions, packed.positions.data(), 0, ggml_nbytes(gt.positions));
        ggml_backend_tensor_set(gt.mask, packed.mask.data(), 0, ggml_nbytes(gt.mask));
        ggml_backend_tensor_set(gt.rows, packed.rows.data(), 0, ggml_nbytes(gt.rows));
        const std::vector<int32_t> targets = head_targets(packed.targets, hp_.n_vocab, chunk);
        ggml_backend_tensor_set(gt.targets, targets.data(), 0, ggml_nbytes(gt.targets));
        if (coefficients) ggml_backend_tensor_set(gt.coefficients, coeff.data(), 0, ggml_nbytes(gt.coefficients));
        const int64_t t_alloc = ggml_time_us();
        const ggml_status status = ggml_backend_sched_graph_compute(sched_, graph);
        ggml_backend_sched_set_eval_callback(sched_, nullptr, nullptr);
        if (stop.error) std::rethrow_exception(stop.error);
        if (status != GGML_STATUS_SUCCESS) throw NativeFailure("native.compute", "ggml graph compute failed on " + device());
        ++forward_passes_;
        if (training) {
            ++backward_passes_;
            ++calls_in_step_;
        }
        if (getenv("GLRL_PROFILE")) {
            fprintf(stderr, "[glrl] %s: build+alloc %.1f ms, compute %.1f ms, compute buffer %.0f MiB, %d nodes (%d on %s), %d splits\n",
                    training ? "train" : "forward", (t_alloc - t_start) / 1000.0, (ggml_time_us() - t_alloc) / 1000.0,
                    ggml_backend_sched_get_buffer_size(sched_, gpu_backend_ ? gpu_backend_ : cpu_backend_) / 1048576.0,
                    placement_.n_nodes, placement_.n_on_device, device().c_str(), placement_.n_splits);
            op_profile.print();
        }
        if (coefficient_fn) {
            logprobs_out = std::move(stop.logprobs_out);
        } else {
            std::vector<float> lp((size_t) m);
            ggml_backend_tensor_get(gt.logprobs, lp.data(), 0, lp.size() * sizeof(float));
            logprobs_out.clear();
            size_t off = 0;
            for (int c : packed.counts) {
                logprobs_out.emplace_back(lp.begin() + off, lp.begin() + off + c);
                off += c;
            }
        }
        if (training) {
            float obj = 0.0f;
            ggml_backend_tensor_get(gt.objective, &obj, 0, sizeof(float));
            objective = obj;
        } else {
            for (const auto & row : logprobs_out) for (float x : row) objective += x;
        }
    } catch (...) {
        ggml_backend_sched_set_eval_callback(sched_, nullptr, nullptr);
        ggml_backend_sched_reset(sched_);
        ggml_free(ctx);
        throw;
    }
    ggml_backend_sched_reset(sched_);
    ggml_free(ctx);
    return objective;
}

// SplitMix64's output function: a well-mixed 64-bit value from a counter or a key.
static uint64_t splitmix64(uint64_t z) {
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

// The pool holds 2× the largest mask of any call so far (grown, and redrawn, when a call needs more): a mask is a
// window of it at an offset that (seed, step, call within the step, pair) decide, so a resumed run draws the same
// masks. Each mask is independent uniforms; two masks overlap in part of the pool, shifted. Before, the masks were
// built on the host one value at a time and uploaded every call — n_in × tokens floats per LoRA pair (~4.5 MB per
// token for a 7B with every target); the pool is 2 × the widest pair's, once (docs/native.md, "LoRA").
void Qwen2Model::ensure_dropout_pool(int64_t largest_mask) {
    const int64_t need = std::max<int64_t>(2 * largest_mask, 1 << 16);
    if (dropout_pool && ggml_nelements(dropout_pool) >= need) return;
    dropout_pool_.free();
    dropout_pool = nullptr;
    ggml_init_params p = {/*mem_size =*/ 2 * ggml_tensor_overhead(), nullptr, /*no_alloc =*/ true};
    dropout_pool_.ctx = ggml_init(p);
    ggml_tensor * pool = ggml_new_tensor_1d(dropout_pool_.ctx, GGML_TYPE_F32, need);
    ggml_set_name(pool, "lora_dropout_pool");
    dropout_pool_.buf = ggml_backend_alloc_ctx_tensors_from_buft(dropout_pool_.ctx, buft_);
    if (!dropout_pool_.buf) throw NativeFailure("native.memory", "out of " + device() + " memory for the LoRA dropout pool (" +
                                                    std::to_string(need * 4 / 1048576) + " MiB)");
    // SplitMix64 from the seed, the top 24 bits as a float in [0, 1).
    std::vector<float> values((size_t) need);
    uint64_t state = options_.lora.seed * 0x9E3779B97F4A7C15ull + 0xD1B54A32D192ED03ull;
    for (float & v : values) v = (float) (splitmix64(state += 0x9E3779B97F4A7C15ull) >> 40) * (1.0f / 16777216.0f);
    ggml_backend_tensor_set(pool, values.data(), 0, values.size() * sizeof(float));
    dropout_pool = pool;
}

int64_t Qwen2Model::dropout_offset(size_t pair, int64_t elements) const {
    const uint64_t z = splitmix64(options_.lora.seed * 0x9E3779B97F4A7C15ull + (uint64_t) step_ * 1000003ull +
                                  (uint64_t) calls_in_step_ * 7919ull + ((uint64_t) (pair + 1) << 40));
    const int64_t room = ggml_nelements(dropout_pool) - elements + 1;
    return (int64_t) (z % (uint64_t) room);
}

std::vector<std::vector<float>> Qwen2Model::logprobs(const std::vector<SequenceInput> & batch, bool reference, float temperature) {
    std::vector<std::vector<float>> out;
    run_graph(batch, nullptr, nullptr, reference, temperature, out);
    return out;
}

double Qwen2Model::accumulate(const std::vector<SequenceInput> & batch, const std::vector<std::vector<float>> & coefficients,
                              float temperature, std::vector<std::vector<float>> & logprobs_out) {
    return run_graph(batch, &coefficients, nullptr, /*reference =*/ false, temperature, logprobs_out);
}

double Qwen2Model::accumulate(const std::vector<SequenceInput> & batch, const CoefficientFn & coefficient_fn,
                              float temperature, std::vector<std::vector<float>> & logprobs_out) {
    return run_graph(batch, nullptr, &coefficient_fn, /*reference =*/ false, temperature, logprobs_out);
}

}  // namespace glrl
