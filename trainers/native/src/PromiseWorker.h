// PromiseWorker: a Napi::AsyncWorker around a C++ closure that returns a Promise. The closure runs off the main
// thread; a NativeFailure becomes a rejection whose `code` ("native.gguf", …) the TS layer maps onto NativeError.
// While it runs, its AddonPolicy is marked busy and kept alive (Ref).
#pragma once

#include <functional>
#include <napi.h>
#include <string>

#include "AddonPolicy.h"

namespace glrl {


inline Napi::Error make_error(Napi::Env env, const std::string & code, const std::string & message) {
    Napi::Error error = Napi::Error::New(env, message);
    error.Value().Set("code", Napi::String::New(env, code));
    return error;
}

class PromiseWorker : public Napi::AsyncWorker {
public:
    using Work = std::function<void()>;
    using Done = std::function<Napi::Value(Napi::Env)>;
    using Finally = std::function<void()>;

    PromiseWorker(Napi::Env env, AddonPolicy * owner, Work work, Done done, Finally finally = nullptr)
        : Napi::AsyncWorker(env, "gl-rl-native"), deferred_(Napi::Promise::Deferred::New(env)), owner_(owner),
          work_(std::move(work)), done_(std::move(done)), finally_(std::move(finally)) {
        if (owner_) {
            owner_->busy = true;
            owner_->Ref();  // keep the JS object (and the model) alive while the worker runs
        }
    }
    Napi::Promise Promise() const { return deferred_.Promise(); }

protected:
    void Execute() override {
        try {
            work_();
        } catch (const NativeFailure & e) {
            code_ = e.code;
            SetError(e.what());
        } catch (const std::bad_alloc &) {
            code_ = "native.memory";
            SetError("out of memory");
        } catch (const std::exception & e) {
            code_ = "native.error";
            SetError(e.what());
        }
    }
    void OnOK() override {
        release();
        Napi::Value value;
        try {
            value = done_(Env());
        } catch (const Napi::Error & e) {
            deferred_.Reject(e.Value());
            return;
        }
        deferred_.Resolve(value);
    }
    void OnError(const Napi::Error & e) override {
        release();
        deferred_.Reject(make_error(Env(), code_, e.Message()).Value());
    }

private:
    void release() {
        if (finally_) {
            finally_();
            finally_ = nullptr;
        }
        if (owner_) {
            owner_->busy = false;
            owner_->Unref();
            owner_ = nullptr;
        }
    }
    Napi::Promise::Deferred deferred_;
    AddonPolicy * owner_;
    Work work_;
    Done done_;
    Finally finally_;
    std::string code_ = "native.error";
};

inline Napi::Value run_async(Napi::Env env, AddonPolicy * owner, PromiseWorker::Work work, PromiseWorker::Done done,
                      PromiseWorker::Finally finally = nullptr) {
    auto * worker = new PromiseWorker(env, owner, std::move(work), std::move(done), std::move(finally));
    Napi::Promise promise = worker->Promise();
    worker->Queue();
    return promise;
}

}  // namespace glrl
