#include "AddonPolicy.h"

#include <functional>

#include "CoefficientBridge.h"
#include "PromiseWorker.h"

namespace glrl {

namespace {

// JS [{ tokens: Int32Array | number[], completionStart }] → C++ (on the main thread).
std::vector<SequenceInput> read_batch(Napi::Env env, Napi::Value value) {
    if (!value.IsArray()) throw make_error(env, "native.input", "batch must be an array of { tokens, completionStart }");
    Napi::Array array = value.As<Napi::Array>();
    std::vector<SequenceInput> batch(array.Length());
    for (uint32_t b = 0; b < array.Length(); ++b) {
        Napi::Object seq = array.Get(b).As<Napi::Object>();
        Napi::Value tokens = seq.Get("tokens");
        if (tokens.IsTypedArray() && tokens.As<Napi::TypedArray>().TypedArrayType() == napi_int32_array) {
            Napi::Int32Array t = tokens.As<Napi::Int32Array>();
            batch[b].tokens.assign(t.Data(), t.Data() + t.ElementLength());
        } else if (tokens.IsArray()) {
            Napi::Array t = tokens.As<Napi::Array>();
            batch[b].tokens.resize(t.Length());
            for (uint32_t i = 0; i < t.Length(); ++i) batch[b].tokens[i] = t.Get(i).As<Napi::Number>().Int32Value();
        } else {
            throw make_error(env, "native.input", "batch[" + std::to_string(b) + "].tokens must be an Int32Array or number[]");
        }
        batch[b].completion_start = seq.Get("completionStart").As<Napi::Number>().Int32Value();
    }
    return batch;
}

std::vector<std::vector<float>> read_coefficients(Napi::Env env, Napi::Value value) {
    if (!value.IsArray()) throw make_error(env, "native.input", "coefficients must be an array of Float32Array");
    Napi::Array array = value.As<Napi::Array>();
    std::vector<std::vector<float>> out(array.Length());
    for (uint32_t b = 0; b < array.Length(); ++b) {
        Napi::Value v = array.Get(b);
        if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
            throw make_error(env, "native.input", "coefficients[" + std::to_string(b) + "] must be a Float32Array");
        }
        Napi::Float32Array f = v.As<Napi::Float32Array>();
        out[b].assign(f.Data(), f.Data() + f.ElementLength());
    }
    return out;
}

Napi::Array to_js(Napi::Env env, const std::vector<std::vector<float>> & rows) {
    Napi::Array array = Napi::Array::New(env, rows.size());
    for (size_t b = 0; b < rows.size(); ++b) {
        Napi::Float32Array f = Napi::Float32Array::New(env, rows[b].size());
        std::copy(rows[b].begin(), rows[b].end(), f.Data());
        array.Set((uint32_t) b, f);
    }
    return array;
}

float number_or(Napi::Object o, const char * key, float fallback) {
    Napi::Value v = o.Get(key);
    return v.IsNumber() ? v.As<Napi::Number>().FloatValue() : fallback;
}

Napi::FunctionReference * constructor_ref = nullptr;

}  // namespace

// ─── class ────────────────────────────────────────────────────────────────────────────────────────────────

Napi::Function AddonPolicy::Init(Napi::Env env) {
    Napi::Function fn = DefineClass(env, "AddonPolicy", {
        InstanceMethod("logprobs", &AddonPolicy::Logprobs),
        InstanceMethod("accumulate", &AddonPolicy::Accumulate),
        InstanceMethod("step", &AddonPolicy::Step),
        InstanceMethod("saveWeights", &AddonPolicy::SaveWeights),
        InstanceMethod("saveCheckpoint", &AddonPolicy::SaveCheckpoint),
        InstanceMethod("loadCheckpoint", &AddonPolicy::LoadCheckpoint),
        InstanceMethod("info", &AddonPolicy::Info),
        InstanceMethod("trainableNames", &AddonPolicy::TrainableNames),
        InstanceMethod("getTensor", &AddonPolicy::GetTensor),
        InstanceMethod("setTensor", &AddonPolicy::SetTensor),
        InstanceMethod("getGrad", &AddonPolicy::GetGrad),
        InstanceMethod("setThreads", &AddonPolicy::SetThreads),
        InstanceMethod("zeroGrad", &AddonPolicy::ZeroGrad),
        InstanceMethod("dispose", &AddonPolicy::Dispose),
    });
    constructor_ref = new Napi::FunctionReference(Napi::Persistent(fn));
    return fn;
}

AddonPolicy::AddonPolicy(const Napi::CallbackInfo & info) : Napi::ObjectWrap<AddonPolicy>(info) {
    // Constructed only by Load(), which passes the loaded model as an External.
    if (info.Length() != 1 || !info[0].IsExternal()) {
        throw make_error(info.Env(), "native.input", "AddonPolicy is created with loadPolicy(options), not new");
    }
    model.reset(info[0].As<Napi::External<Qwen2Model>>().Data());
}

Napi::Value AddonPolicy::Load(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    Napi::Object o = info[0].As<Napi::Object>();
    auto options = std::make_shared<ModelOptions>();
    options->model_path = o.Get("modelPath").As<Napi::String>().Utf8Value();
    if (o.Get("trainable").IsString()) options->trainable = o.Get("trainable").As<Napi::String>().Utf8Value();
    if (o.Get("threads").IsNumber()) options->n_threads = o.Get("threads").As<Napi::Number>().Int32Value();
    if (o.Get("gpu").IsString()) options->gpu = o.Get("gpu").As<Napi::String>().Utf8Value();
    if (o.Get("sharePrompts").IsString()) options->share_prompts = o.Get("sharePrompts").As<Napi::String>().Utf8Value();
    if (o.Get("cpuBlas").IsBoolean()) options->cpu_blas = o.Get("cpuBlas").As<Napi::Boolean>().Value();
    if (o.Get("headChunk").IsNumber()) options->head_chunk = o.Get("headChunk").As<Napi::Number>().Int64Value();
    if (o.Get("recompute").IsBoolean()) options->recompute = o.Get("recompute").As<Napi::Boolean>().Value();
    if (o.Get("lora").IsObject()) {
        Napi::Object l = o.Get("lora").As<Napi::Object>();
        if (l.Get("rank").IsNumber()) {
            options->lora.rank = l.Get("rank").As<Napi::Number>().Int32Value();
            if (options->lora.rank < 1) throw make_error(env, "native.input", "LoRA rank must be ≥ 1, got " + std::to_string(options->lora.rank));
        }
        options->lora.alpha = number_or(l, "alpha", options->lora.alpha);
        options->lora.dropout = number_or(l, "dropout", options->lora.dropout);
        if (l.Get("seed").IsNumber()) options->lora.seed = (uint64_t) l.Get("seed").As<Napi::Number>().Int64Value();
        if (l.Get("initPath").IsString()) options->lora.init_path = l.Get("initPath").As<Napi::String>().Utf8Value();
        if (l.Get("targets").IsArray()) {
            Napi::Array t = l.Get("targets").As<Napi::Array>();
            options->lora.targets_set = true;
            for (uint32_t i = 0; i < t.Length(); ++i) {
                if (!t.Get(i).IsString()) throw make_error(env, "native.input", "lora.targets must be an array of strings");
                options->lora.targets.push_back(t.Get(i).As<Napi::String>().Utf8Value());
            }
        }
    }
    auto loaded = std::make_shared<Qwen2Model *>(nullptr);
    return run_async(env, nullptr,
        [options, loaded]() { *loaded = new Qwen2Model(*options); },
        [loaded](Napi::Env env) -> Napi::Value {
            Napi::External<Qwen2Model> ext = Napi::External<Qwen2Model>::New(env, *loaded);
            return constructor_ref->New({ext});
        });
}

Qwen2Model & AddonPolicy::checked(const Napi::Env & env) {
    if (!model) throw make_error(env, "native.disposed", "the policy was disposed; load it again");
    if (busy) {
        throw make_error(env, "native.busy", "another call on this policy is still running; await it first");
    }
    return *model;
}

Napi::Value AddonPolicy::Logprobs(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    Qwen2Model & m = checked(env);
    auto batch = std::make_shared<std::vector<SequenceInput>>(read_batch(env, info[0]));
    const bool reference = info[1].IsBoolean() && info[1].As<Napi::Boolean>().Value();
    const float temperature = info[2].IsNumber() ? info[2].As<Napi::Number>().FloatValue() : 1.0f;
    auto out = std::make_shared<std::vector<std::vector<float>>>();
    return run_async(env, this,
        [&m, batch, reference, temperature, out]() { *out = m.logprobs(*batch, reference, temperature); },
        [out](Napi::Env env) -> Napi::Value { return to_js(env, *out); });
}

Napi::Value AddonPolicy::Accumulate(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    Qwen2Model & m = checked(env);
    auto batch = std::make_shared<std::vector<SequenceInput>>(read_batch(env, info[0]));
    const float temperature = info[2].IsNumber() ? info[2].As<Napi::Number>().FloatValue() : 1.0f;
    auto out = std::make_shared<std::vector<std::vector<float>>>();
    auto objective = std::make_shared<double>(0.0);
    auto done = [out, objective](Napi::Env env) -> Napi::Value {
        Napi::Object result = Napi::Object::New(env);
        result.Set("objective", Napi::Number::New(env, *objective));
        result.Set("logprobs", to_js(env, *out));
        return result;
    };
    if (info[1].IsFunction()) {
        auto bridge = std::make_shared<CoefficientBridge>(env, info[1].As<Napi::Function>());
        return run_async(env, this,
            [&m, batch, bridge, temperature, out, objective]() {
                CoefficientFn fn = [bridge](const std::vector<std::vector<float>> & lp) { return bridge->call(lp); };
                *objective = m.accumulate(*batch, fn, temperature, *out);
            },
            done, [bridge]() { bridge->release(); });
    }
    auto coeff = std::make_shared<std::vector<std::vector<float>>>(read_coefficients(env, info[1]));
    return run_async(env, this,
        [&m, batch, coeff, temperature, out, objective]() { *objective = m.accumulate(*batch, *coeff, temperature, *out); }, done);
}

Napi::Value AddonPolicy::Step(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    Qwen2Model & m = checked(env);
    Napi::Object o = info[0].As<Napi::Object>();
    AdamWOptions a;
    a.learning_rate = number_or(o, "learningRate", a.learning_rate);
    a.max_grad_norm = number_or(o, "maxGradNorm", a.max_grad_norm);
    a.weight_decay = number_or(o, "weightDecay", a.weight_decay);
    a.beta1 = number_or(o, "beta1", a.beta1);
    a.beta2 = number_or(o, "beta2", a.beta2);
    a.epsilon = number_or(o, "epsilon", a.epsilon);
    auto norm = std::make_shared<double>(0.0);
    return run_async(env, this, [&m, a, norm]() { *norm = m.step(a); },
        [norm](Napi::Env env) -> Napi::Value { return Napi::Number::New(env, *norm); });
}

Napi::Value AddonPolicy::SaveWeights(const Napi::CallbackInfo & info) {
    Qwen2Model & m = checked(info.Env());
    const std::string path = info[0].As<Napi::String>().Utf8Value();
    return run_async(info.Env(), this, [&m, path]() { m.save_weights(path); },
        [](Napi::Env env) -> Napi::Value { return env.Undefined(); });
}

Napi::Value AddonPolicy::SaveCheckpoint(const Napi::CallbackInfo & info) {
    Qwen2Model & m = checked(info.Env());
    const std::string path = info[0].As<Napi::String>().Utf8Value();
    return run_async(info.Env(), this, [&m, path]() { m.save_checkpoint(path); },
        [](Napi::Env env) -> Napi::Value { return env.Undefined(); });
}

Napi::Value AddonPolicy::LoadCheckpoint(const Napi::CallbackInfo & info) {
    Qwen2Model & m = checked(info.Env());
    const std::string path = info[0].As<Napi::String>().Utf8Value();
    return run_async(info.Env(), this, [&m, path]() { m.load_checkpoint(path); },
        [](Napi::Env env) -> Napi::Value { return env.Undefined(); });
}

Napi::Value AddonPolicy::Info(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    Qwen2Model & m = checked(env);
    const Qwen2Hparams & hp = m.hparams();
    Napi::Object o = Napi::Object::New(env);
    o.Set("architecture", hp.architecture);
    o.Set("layers", hp.n_layer);
    o.Set("embedding", hp.n_embd);
    o.Set("heads", hp.n_head);
    o.Set("kvHeads", hp.n_head_kv);
    o.Set("headDim", hp.head_dim);
    o.Set("ffn", hp.n_ff);
    o.Set("vocab", hp.n_vocab);
    o.Set("contextLength", hp.n_ctx_train);
    o.Set("tiedOutput", hp.tied_output);
    o.Set("trainable", m.trainable());
    o.Set("trainableParameters", Napi::Number::New(env, (double) m.trainable_parameter_count()));
    o.Set("step", Napi::Number::New(env, (double) m.step_count()));
    o.Set("device", m.device());
    const std::string blas = m.cpu_blas();
    o.Set("cpuBlas", blas.empty() ? env.Null() : Napi::String::New(env, blas));
    o.Set("headChunk", Napi::Number::New(env, (double) m.head_chunk()));
    const PlacementReport & placed = m.placement();
    o.Set("deviceNodeShare", placed.n_nodes == 0 ? env.Null() : Napi::Number::New(env, (double) placed.n_on_device / placed.n_nodes));
    o.Set("graphSplits", Napi::Number::New(env, placed.n_splits));
    o.Set("computeBufferMiB", Napi::Number::New(env, (double) placed.compute_bytes / 1048576.0));
    Napi::Array cpu_ops = Napi::Array::New(env);
    for (const std::string & op : placed.cpu_ops) cpu_ops.Set(cpu_ops.Length(), op);
    o.Set("cpuOps", cpu_ops);
    Napi::Object layout = Napi::Object::New(env);
    layout.Set("sequences", placed.n_sequences);
    layout.Set("rows", placed.n_rows);
    layout.Set("rowTokens", placed.n_row_tokens);
    o.Set("lastBatch", layout);
    size_t free = 0, total = 0;
    if (m.device_memory(free, total)) {
        Napi::Object memory = Napi::Object::New(env);
        memory.Set("usedMiB", Napi::Number::New(env, (double) (total - free) / (1 << 20)));
        memory.Set("totalMiB", Napi::Number::New(env, (double) total / (1 << 20)));
        o.Set("deviceMemory", memory);
    } else {
        o.Set("deviceMemory", env.Null());
    }
    Napi::Object passes = Napi::Object::New(env);
    passes.Set("forward", Napi::Number::New(env, (double) m.forward_passes()));
    passes.Set("backward", Napi::Number::New(env, (double) m.backward_passes()));
    o.Set("passes", passes);
    Napi::Object types = Napi::Object::New(env);
    for (const auto & [type, count] : m.weight_types()) types.Set(type, count);
    o.Set("weightTypes", types);
    if (m.trainable() == "lora") {
        Napi::Object lora = Napi::Object::New(env);
        lora.Set("rank", m.lora_rank());
        lora.Set("alpha", m.lora_alpha());
        Napi::Array targets = Napi::Array::New(env, m.lora_targets().size());
        for (size_t i = 0; i < m.lora_targets().size(); ++i) targets.Set((uint32_t) i, m.lora_targets()[i]);
        lora.Set("targets", targets);
        o.Set("lora", lora);
    }
    return o;
}

Napi::Value AddonPolicy::TrainableNames(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    auto names = checked(env).trainable_names();
    Napi::Array a = Napi::Array::New(env, names.size());
    for (size_t i = 0; i < names.size(); ++i) a.Set((uint32_t) i, names[i]);
    return a;
}

static Napi::Value floats_to_js(Napi::Env env, const std::vector<float> & v) {
    Napi::Float32Array f = Napi::Float32Array::New(env, v.size());
    std::copy(v.begin(), v.end(), f.Data());
    return f;
}

#define GLRL_SYNC(expr)                                                                  \
    try {                                                                                \
        expr;                                                                            \
    } catch (const NativeFailure & e) {                                                  \
        throw make_error(info.Env(), e.code, e.what());                                 \
    }

Napi::Value AddonPolicy::GetTensor(const Napi::CallbackInfo & info) {
    Qwen2Model & m = checked(info.Env());
    std::vector<float> v;
    GLRL_SYNC(v = m.get_tensor(info[0].As<Napi::String>().Utf8Value()));
    return floats_to_js(info.Env(), v);
}

Napi::Value AddonPolicy::SetTensor(const Napi::CallbackInfo & info) {
    Qwen2Model & m = checked(info.Env());
    Napi::Float32Array f = info[1].As<Napi::Float32Array>();
    std::vector<float> v(f.Data(), f.Data() + f.ElementLength());
    GLRL_SYNC(m.set_tensor(info[0].As<Napi::String>().Utf8Value(), v));
    return info.Env().Undefined();
}

Napi::Value AddonPolicy::GetGrad(const Napi::CallbackInfo & info) {
    Qwen2Model & m = checked(info.Env());
    std::vector<float> v;
    GLRL_SYNC(v = m.get_grad(info[0].As<Napi::String>().Utf8Value()));
    return floats_to_js(info.Env(), v);
}

Napi::Value AddonPolicy::SetThreads(const Napi::CallbackInfo & info) {
    Qwen2Model & m = checked(info.Env());
    GLRL_SYNC(m.set_threads(info[0].As<Napi::Number>().Int32Value()));
    return info.Env().Undefined();
}

Napi::Value AddonPolicy::ZeroGrad(const Napi::CallbackInfo & info) {
    checked(info.Env()).zero_grad();
    return info.Env().Undefined();
}

Napi::Value AddonPolicy::Dispose(const Napi::CallbackInfo & info) {
    if (busy) throw make_error(info.Env(), "native.busy", "cannot dispose while a call is running; await it first");
    model.reset();
    return info.Env().Undefined();
}

}  // namespace glrl
