// The ggml devices the trainer computes on, found in the backend registry of the ggml variant node-llama-cpp
// loaded into this process (CPU, CUDA, Vulkan or Metal build) — never a second copy of ggml.
//
// How it is found (docs/native.md, "Finding ggml"): the extension links only libggml-base (identical in every
// variant, and already loaded by node-llama-cpp's addon, which the TS layer loads first). The registry
// functions (ggml_backend_dev_count, ggml_backend_load_all_from_path, …) live in the variant's libggml
// (`libggml.v0.5.0.so`, `libggml.vulkan.v0.5.0.so`, `libggml.cuda.v0.5.0.so`, …): every object loaded in the
// process is opened again with RTLD_NOLOAD and asked for them with dlsym; the library that defines them
// (dladdr) is a registry. No path is hard-coded; no second registry is ever loaded.
#pragma once

#include <string>
#include <vector>

#include "ggml-backend.h"

namespace glrl {

// "auto" (a GPU device when the loaded variant has one, else the CPU), "cpu", "cuda", "vulkan", "metal".
struct DeviceSelection {
    ggml_backend_dev_t gpu = nullptr;   // nullptr = compute on the CPU only
    ggml_backend_dev_t cpu = nullptr;
    std::string registry_path;          // the libggml the devices came from
};

// Picks the devices for `gpu` from the loaded registries; NativeFailure "native.backend" when none fits.
DeviceSelection select_devices(const std::string & gpu);

// "CPU", "Vulkan0 (llvmpipe (LLVM 15.0.6, 256 bits))", "CUDA0 (NVIDIA H200)".
std::string device_label(ggml_backend_dev_t dev);
// Whether graphs on `dev` need a new backend each (Mesa's lavapipe: qwen2Load.cpp, scheduler_for_next_graph).
bool needs_fresh_context_per_graph(ggml_backend_dev_t dev);

// Every device of every loaded registry, as device_label() + " [registry path]" (for systemInfo()).
std::vector<std::string> list_devices();

// Sets the thread count of a CPU backend (through its registry's proc address); no-op for other backends.
void set_backend_threads(ggml_backend_t backend, int n_threads);

// A thread pool of n_threads kept for the CPU backend's graphs (ggml otherwise starts and ends its threads on
// every graph), set on it; nullptr when the registry has none. Free it with free_cpu_threadpool.
ggml_threadpool_t make_cpu_threadpool(ggml_backend_t backend, int n_threads, int poll);
void free_cpu_threadpool(ggml_backend_t backend, ggml_threadpool_t pool);

}  // namespace glrl
