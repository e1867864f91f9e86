// The gl-rl native gradient extension: module entry. Types of every export: trainers/native/nativeAddon.ts.
#include <napi.h>

#include "AddonPolicy.h"
#include "ggml.h"

static Napi::Value SystemInfo(const Napi::CallbackInfo & info) {
    Napi::Object o = Napi::Object::New(info.Env());
    o.Set("ggmlVersion", ggml_version());
    o.Set("ggmlCommit", ggml_commit());
    return o;
}

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
    exports.Set("AddonPolicy", glrl::AddonPolicy::Init(env));
    exports.Set("loadPolicy", Napi::Function::New(env, glrl::AddonPolicy::Load));
    exports.Set("systemInfo", Napi::Function::New(env, SystemInfo));
    return exports;
}

NODE_API_MODULE(gl_rl_native, Init)
