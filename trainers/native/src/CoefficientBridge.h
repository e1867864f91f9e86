// CoefficientBridge: a JS coefficient function called from the worker thread. The worker hands the log-probs to
// the main thread (a thread-safe function) and waits; the function's Float32Array[] comes back, or its error as
// a NativeFailure ("native.input"). Created on the main thread; release() once the worker is done.
#pragma once

#include <condition_variable>
#include <mutex>
#include <napi.h>
#include <string>
#include <vector>

#include "ggufFile.h"

namespace glrl {

class CoefficientBridge {
public:
    CoefficientBridge(Napi::Env env, Napi::Function fn)
        : tsfn_(Napi::ThreadSafeFunction::New(env, fn, "gl-rl-coefficients", /*maxQueueSize =*/ 0, /*initialThreadCount =*/ 1)) {}

    // Runs on the worker thread (inside the scheduler's eval callback).
    std::vector<std::vector<float>> call(const std::vector<std::vector<float>> & logprobs) {
        {
            std::lock_guard<std::mutex> lock(mutex_);
            request_ = &logprobs;
            ready_ = false;
            error_.clear();
        }
        if (tsfn_.BlockingCall(this, [](Napi::Env env, Napi::Function js, CoefficientBridge * self) { self->run(env, js); }) != napi_ok) {
            throw NativeFailure("native.error", "could not call the coefficient function (the JS thread is shutting down)");
        }
        std::unique_lock<std::mutex> lock(mutex_);
        done_.wait(lock, [this] { return ready_; });
        if (!error_.empty()) throw NativeFailure("native.input", error_);
        return std::move(result_);
    }

    void release() { tsfn_.Release(); }

private:
    // Runs on the main thread.
    void run(Napi::Env env, Napi::Function js) {
        std::string error;
        std::vector<std::vector<float>> result;
        try {
            Napi::Array lp = Napi::Array::New(env, request_->size());
            for (size_t b = 0; b < request_->size(); ++b) {
                Napi::Float32Array row = Napi::Float32Array::New(env, (*request_)[b].size());
                std::copy((*request_)[b].begin(), (*request_)[b].end(), row.Data());
                lp.Set((uint32_t) b, row);
            }
            Napi::Value out = js.Call({lp});
            if (!out.IsArray()) throw std::runtime_error("the coefficient function must return an array of Float32Array, one per sequence");
            Napi::Array rows = out.As<Napi::Array>();
            for (uint32_t b = 0; b < rows.Length(); ++b) {
                Napi::Value v = rows.Get(b);
                if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
                    throw std::runtime_error("the coefficient function returned a non-Float32Array at index " + std::to_string(b));
                }
                Napi::Float32Array f = v.As<Napi::Float32Array>();
                result.emplace_back(f.Data(), f.Data() + f.ElementLength());
            }
        } catch (const Napi::Error & e) {
            error = std::string("the coefficient function threw: ") + e.Message();
        } catch (const std::exception & e) {
            error = e.what();
        }
        {
            std::lock_guard<std::mutex> lock(mutex_);
            result_ = std::move(result);
            error_ = error;
            ready_ = true;
        }
        done_.notify_one();
    }

    Napi::ThreadSafeFunction tsfn_;
    std::mutex mutex_;
    std::condition_variable done_;
    bool ready_ = false;
    const std::vector<std::vector<float>> * request_ = nullptr;
    std::vector<std::vector<float>> result_;
    std::string error_;
};

}  // namespace glrl
