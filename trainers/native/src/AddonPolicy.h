// AddonPolicy: the N-API face of Qwen2Model. Slow calls run in a Napi::AsyncWorker and return Promises;
// a C++ exception becomes a rejection whose `code` ("native.gguf", "native.shape", …) the TS layer maps to NativeError.
#pragma once

#include <memory>
#include <napi.h>

#include "qwen2Model.h"

namespace glrl {

class AddonPolicy : public Napi::ObjectWrap<AddonPolicy> {
public:
    static Napi::Function Init(Napi::Env env);
    // loadPolicy(options) → Promise<AddonPolicy>: loads the GGUF off the main thread.
    static Napi::Value Load(const Napi::CallbackInfo & info);

    explicit AddonPolicy(const Napi::CallbackInfo & info);

    std::unique_ptr<Qwen2Model> model;
    bool busy = false;   // one slow call at a time (the TS class queues them)

private:
    Napi::Value Logprobs(const Napi::CallbackInfo & info);
    Napi::Value Accumulate(const Napi::CallbackInfo & info);
    Napi::Value Step(const Napi::CallbackInfo & info);
    Napi::Value SaveWeights(const Napi::CallbackInfo & info);
    Napi::Value SaveCheckpoint(const Napi::CallbackInfo & info);
    Napi::Value LoadCheckpoint(const Napi::CallbackInfo & info);
    Napi::Value Info(const Napi::CallbackInfo & info);
    Napi::Value TrainableNames(const Napi::CallbackInfo & info);
    Napi::Value GetTensor(const Napi::CallbackInfo & info);
    Napi::Value SetTensor(const Napi::CallbackInfo & info);
    Napi::Value GetGrad(const Napi::CallbackInfo & info);
    Napi::Value SetThreads(const Napi::CallbackInfo & info);
    Napi::Value ZeroGrad(const Napi::CallbackInfo & info);
    Napi::Value Dispose(const Napi::CallbackInfo & info);

    // The model, or a JS error when disposed or busy (every call but dispose goes through it).
    Qwen2Model & checked(const Napi::Env & env);
};

}  // namespace glrl
