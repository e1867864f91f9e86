// The gl-rl native gradient extension: module entry. Types of every export: trainers/native/nativeAddon.ts.
#include <napi.h>

#include "AddonPolicy.h"
#include "ggml.h"
#include "ggmlBackends.h"

// ggml's version and every device of the ggml registries loaded in this process (node-llama-cpp's variant).
static Napi::Value SystemInfo(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    Napi::Object o = Napi::Object::New(env);
    o.Set("ggmlVersion", ggml_version());
    o.Set("ggmlCommit", ggml_commit());
    const std::vector<std::string> devices = glrl::list_devices();
    Napi::Array list = Napi::Array::New(env, devices.size());
    for (size_t i = 0; i < devices.size(); ++i) list.Set((uint32_t) i, devices[i]);
    o.Set("devices", list);
    return o;
}

// quantize(values: Float32Array, type: "q8_0" | "q4_K" | …, rowLength) → Uint8Array: ggml's own quantizer (the
// one llama-quantize uses, without an importance matrix), for writing quantized test and benchmark models.
static Napi::Value Quantize(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    auto fail = [&](const std::string & message) {
        Napi::Error error = Napi::Error::New(env, message);
        error.Value().Set("code", Napi::String::New(env, "native.input"));
        throw error;
    };
    if (info.Length() < 3 || !info[0].IsTypedArray() || info[0].As<Napi::TypedArray>().TypedArrayType() != napi_float32_array ||
        !info[1].IsString() || !info[2].IsNumber()) {
        fail("quantize(values: Float32Array, type: string, rowLength: number)");
    }
    Napi::Float32Array values = info[0].As<Napi::Float32Array>();
    const std::string name = info[1].As<Napi::String>().Utf8Value();
    const int64_t row = info[2].As<Napi::Number>().Int64Value();
    int type = -1;
    for (int t = 0; t < GGML_TYPE_COUNT; ++t) {
        const char * n = ggml_type_name((ggml_type) t);
        if (n && name == n && ggml_get_type_traits((ggml_type) t)->blck_size > 0) type = t;
    }
    if (type < 0) fail("unknown ggml type \"" + name + "\"");
    const int64_t n = (int64_t) values.ElementLength();
    if (row <= 0 || n % row != 0 || row % ggml_blck_size((ggml_type) type) != 0 || ggml_quantize_requires_imatrix((ggml_type) type)) {
        fail("cannot quantize rows of " + std::to_string(row) + " values to " + name + " (block size " +
             std::to_string(ggml_blck_size((ggml_type) type)) + ")");
    }
    Napi::Uint8Array out = Napi::Uint8Array::New(env, ggml_row_size((ggml_type) type, row) * (size_t) (n / row));
    ggml_quantize_chunk((ggml_type) type, values.Data(), out.Data(), 0, n / row, row, nullptr);
    return out;
}

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
    exports.Set("AddonPolicy", glrl::AddonPolicy::Init(env));
    exports.Set("loadPolicy", Napi::Function::New(env, glrl::AddonPolicy::Load));
    exports.Set("systemInfo", Napi::Function::New(env, SystemInfo));
    exports.Set("quantize", Napi::Function::New(env, Quantize));
    return exports;
}

NODE_API_MODULE(gl_rl_native, Init)
