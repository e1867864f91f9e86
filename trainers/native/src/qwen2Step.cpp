// Qwen2Model, after the graphs: the AdamW step on the device, checkpoints, and tensor access for tests.
//
//   - step: g ← g·min(1, max_norm/‖g‖) (global L2 norm over all trainables, computed on the device; one scalar
//     comes back), then ggml's opt_step_adamw on the device = PyTorch's AdamW: θ ← θ(1 − lr·wd);
//     m ← β1 m + (1−β1) g; v ← β2 v + (1−β2) g²; θ ← θ − lr·m̂/(√v̂ + ε), m̂ = m/(1−β1^t), v̂ = v/(1−β2^t);
//     gradients are then zeroed. A non-finite norm skips the step (NativeFailure "native.nan").
//   - Checkpoints hold trainables + AdamW moments + step, written to "<path>.tmp-<pid>" and renamed.
#include <cstring>

#include "qwen2Model.h"

namespace glrl {

// ─── AdamW ────────────────────────────────────────────────────────────────────────────────────────────────

void Qwen2Model::zero_grad() {
    if (grads_.buf) ggml_backend_buffer_clear(grads_.buf, 0);
}

double Qwen2Model::step(const AdamWOptions & o) {
    if (trainables_.empty()) return 0.0;
    // Tensors: sqr + sum + add per trainable (the norm), scale + opt_step per trainable (AdamW); two graphs.
    const size_t size = 5 * trainables_.size() + 64;
    ggml_init_params p = {/*mem_size =*/ size * ggml_tensor_overhead() + 2 * ggml_graph_overhead_custom(size, false), nullptr, true};
    ggml_context * ctx = ggml_init(p);
    double norm = 0.0;
    try {
        // 1. ‖g‖ over every trainable, on the device; one scalar comes back.
        ggml_cgraph * gn = ggml_new_graph_custom(ctx, size, false);
        ggml_tensor * total = nullptr;
        for (const auto & t : trainables_) {
            ggml_tensor * s = ggml_sum(ctx, ggml_sqr(ctx, t.grad));
            total = total ? ggml_add(ctx, total, s) : s;
        }
        ggml_set_output(total);
        ggml_build_forward_expand(gn, total);
        scheduler_for_next_graph();
        if (!ggml_backend_sched_alloc_graph(sched_, gn) || ggml_backend_sched_graph_compute(sched_, gn) != GGML_STATUS_SUCCESS) {
            throw NativeFailure("native.compute", "computing the gradient norm failed on " + device());
        }
        float sq = 0.0f;
        ggml_backend_tensor_get(total, &sq, 0, sizeof(sq));
        norm = std::sqrt((double) sq);
        ggml_backend_sched_reset(sched_);
        if (!std::isfinite(norm)) {
            zero_grad();
            throw NativeFailure("native.nan", "gradient norm is not finite; the step was skipped (lower the learning rate or check the coefficients)");
        }
        // 2. AdamW on the clipped gradients, in place on the device.
        const float clip = (o.max_grad_norm > 0.0f && norm > o.max_grad_norm) ? (float) (o.max_grad_norm / (norm + 1e-6)) : 1.0f;
        ++step_;
        const float params[7] = {o.learning_rate, o.beta1, o.beta2, o.epsilon, o.weight_decay,
                                 (float) (1.0 / (1.0 - std::pow((double) o.beta1, (double) step_))),
                                 (float) (1.0 / (1.0 - std::pow((double) o.beta2, (double) step_)))};
        ggml_backend_tensor_set(adamw_params_, params, 0, sizeof(params));
        scheduler_for_next_graph();
        ggml_cgraph * ga = ggml_new_graph_custom(ctx, size, false);
        for (const auto & t : trainables_) {
            ggml_tensor * g = clip == 1.0f ? t.grad : ggml_scale(ctx, t.grad, clip);
            ggml_build_forward_expand(ga, ggml_opt_step_adamw(ctx, t.tensor, g, t.m, t.v, adamw_params_));
        }
        if (!ggml_backend_sched_alloc_graph(sched_, ga) || ggml_backend_sched_graph_compute(sched_, ga) != GGML_STATUS_SUCCESS) {
            throw NativeFailure("native.compute", "the AdamW step failed on " + device());
        }
        ggml_backend_sched_reset(sched_);
    } catch (...) {
        ggml_backend_sched_reset(sched_);
        ggml_free(ctx);
        throw;
    }
    ggml_free(ctx);
    zero_grad();
    calls_in_step_ = 0;
    return norm;
}

// ─── checkpoints ──────────────────────────────────────────────────────────────────────────────────────────

void Qwen2Model::save_checkpoint(const std::string & path) const {
    size_t bytes = 0;
    for (const auto & t : trainables_) bytes += 3 * ggml_nbytes(t.tensor);
    ggml_init_params p = {/*mem_size =*/ bytes + 3 * trainables_.size() * (ggml_tensor_overhead() + 64) + 1024, nullptr, false};
    ggml_context * host = ggml_init(p);
    gguf_context * g = gguf_init_empty();
    try {
        if (!host) throw NativeFailure("native.memory", "out of memory for a checkpoint of " + std::to_string(bytes) + " bytes");
        gguf_set_val_str(g, "general.type", "gl-rl.checkpoint");
        gguf_set_val_str(g, "checkpoint.trainable", options_.trainable.c_str());
        gguf_set_val_u64(g, "checkpoint.step", (uint64_t) step_);
        for (const auto & t : trainables_) {
            const std::string name = ggml_get_name(t.tensor);
            for (const auto & [suffix, src] : {std::pair<std::string, ggml_tensor *>{"", t.tensor}, {".adam_m", t.m}, {".adam_v", t.v}}) {
                ggml_tensor * c = ggml_dup_tensor(host, src);
                ggml_set_name(c, (name + suffix).c_str());
                ggml_backend_tensor_get(src, c->data, 0, ggml_nbytes(src));
                gguf_add_tensor(g, c);
            }
        }
        write_gguf_atomically(g, path);
    } catch (...) {
        gguf_free(g);
        if (host) ggml_free(host);
        throw;
    }
    gguf_free(g);
    ggml_free(host);
}

void Qwen2Model::load_checkpoint(const std::string & path) {
    GgufFile f(path, /*with_data =*/ true, "checkpoint");
    if (f.get_string("general.type", "") != "gl-rl.checkpoint" || f.get_string("checkpoint.trainable", "") != options_.trainable) {
        f.fail("native.shape", "is not a gl-rl checkpoint of a \"" + options_.trainable + "\" policy; resume with the options it was written with");
    }
    const int64_t step = f.get_int("checkpoint.step");
    if (step < 0) f.fail("native.gguf", "has checkpoint.step " + std::to_string(step));
    // Validate everything before touching any weight: a failed load leaves the policy as it was.
    for (const auto & t : trainables_) {
        const std::string name = ggml_get_name(t.tensor);
        for (const std::string & n : {name, name + ".adam_m", name + ".adam_v"}) {
            const ggml_tensor * src = f.tensor(n);
            if (!src || src->type != GGML_TYPE_F32 || !ggml_are_same_shape(src, t.tensor)) {
                f.fail("native.shape", "has tensor " + n + (src ? " of shape " + shape_string(src) : std::string(" missing")) +
                    ", the policy has " + shape_string(t.tensor) + "; resume with the model, rank and targets it was written with");
            }
        }
    }
    for (auto & t : trainables_) {
        const std::string name = ggml_get_name(t.tensor);
        ggml_backend_tensor_set(t.tensor, f.tensor(name)->data, 0, ggml_nbytes(t.tensor));
        ggml_backend_tensor_set(t.m, f.tensor(name + ".adam_m")->data, 0, ggml_nbytes(t.m));
        ggml_backend_tensor_set(t.v, f.tensor(name + ".adam_v")->data, 0, ggml_nbytes(t.v));
    }
    step_ = step;
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
    if (t->type == GGML_TYPE_F32) {
        ggml_backend_tensor_get(t, out.data(), 0, ggml_nbytes(t));
    } else {
        std::vector<uint8_t> raw(ggml_nbytes(t));
        ggml_backend_tensor_get(t, raw.data(), 0, raw.size());
        ggml_get_type_traits(t->type)->to_float(raw.data(), out.data(), ggml_nelements(t));
    }
    return out;
}

void Qwen2Model::set_tensor(const std::string & name, const std::vector<float> & values) {
    ggml_tensor * t = find_tensor(name);
    if (!t) throw NativeFailure("native.input", "no tensor named " + name);
    if (t->type != GGML_TYPE_F32) {
        throw NativeFailure("native.input", "tensor " + name + " is " + ggml_type_name(t->type) + "; only f32 tensors can be set");
    }
    if ((int64_t) values.size() != ggml_nelements(t)) {
        throw NativeFailure("native.shape", "tensor " + name + " is " + shape_string(t) + " (" + std::to_string(ggml_nelements(t)) +
            " floats), got " + std::to_string(values.size()));
    }
    ggml_backend_tensor_set(t, values.data(), 0, ggml_nbytes(t));
}

std::vector<float> Qwen2Model::get_grad(const std::string & name) const {
    const TrainableTensor * t = find_trainable(name);
    if (!t) throw NativeFailure("native.input", "no trainable tensor named " + name);
    std::vector<float> out((size_t) ggml_nelements(t->grad));
    ggml_backend_tensor_get(t->grad, out.data(), 0, ggml_nbytes(t->grad));
    return out;
}

}  // namespace glrl
