#include "ggmlBackends.h"

#include <dlfcn.h>
#include <mutex>

#if defined(__APPLE__)
#include <mach-o/dyld.h>
#else
#include <link.h>
#endif

#include "ggufFile.h"

namespace glrl {

namespace {

// The registry functions of one loaded ggml variant (they are not in libggml-base, which the addon links).
struct Registry {
    std::string path;   // the library defining them
    size_t (*dev_count)() = nullptr;
    ggml_backend_dev_t (*dev_get)(size_t) = nullptr;
    void (*load_all_from_path)(const char *) = nullptr;
};

// Paths of every shared object loaded in this process, in load order.
std::vector<std::string> loaded_objects() {
    std::vector<std::string> paths;
#if defined(__APPLE__)
    for (uint32_t i = 0; i < _dyld_image_count(); ++i) {
        const char * name = _dyld_get_image_name(i);
        if (name && *name) paths.emplace_back(name);
    }
#else
    dl_iterate_phdr([](dl_phdr_info * info, size_t, void * data) -> int {
        if (info->dlpi_name && *info->dlpi_name) static_cast<std::vector<std::string> *>(data)->emplace_back(info->dlpi_name);
        return 0;
    }, &paths);
#endif
    return paths;
}

// Every distinct registry reachable from the loaded objects (usually one: the variant node-llama-cpp loaded).
std::vector<Registry> loaded_registries() {
    std::vector<Registry> out;
    for (const std::string & path : loaded_objects()) {
        void * handle = dlopen(path.c_str(), RTLD_LAZY | RTLD_NOLOAD);
        if (!handle) continue;
        void * fn = dlsym(handle, "ggml_backend_dev_count");
        Dl_info where = {};
        if (fn && dladdr(fn, &where) && where.dli_fname) {
            bool seen = false;
            for (const Registry & r : out) seen = seen || r.path == where.dli_fname;
            if (!seen) {
                Registry r;
                r.path = where.dli_fname;
                r.dev_count = (size_t (*)()) fn;
                r.dev_get = (ggml_backend_dev_t (*)(size_t)) dlsym(handle, "ggml_backend_dev_get");
                r.load_all_from_path = (void (*)(const char *)) dlsym(handle, "ggml_backend_load_all_from_path");
                if (r.dev_get && r.load_all_from_path) out.push_back(r);
            }
        }
        dlclose(handle);  // RTLD_NOLOAD took a reference; the library stays loaded by its first loader
    }
    return out;
}

std::string directory_of(const std::string & path) {
    const size_t slash = path.find_last_of('/');
    return slash == std::string::npos ? "." : path.substr(0, slash);
}

std::vector<ggml_backend_dev_t> devices_of(const Registry & r) {
    std::vector<ggml_backend_dev_t> devs;
    for (size_t i = 0; i < r.dev_count(); ++i) devs.push_back(r.dev_get(i));
    return devs;
}

bool is_gpu(ggml_backend_dev_t dev) {
    const auto type = ggml_backend_dev_type(dev);
    return type == GGML_BACKEND_DEVICE_TYPE_GPU || type == GGML_BACKEND_DEVICE_TYPE_IGPU;
}

// "cuda" → "CUDA", the name ggml's registries give their backends.
std::string backend_name_for(const std::string & gpu) {
    if (gpu == "cuda") return "CUDA";
    if (gpu == "vulkan") return "Vulkan";
    if (gpu == "metal") return "Metal";
    return "";
}

std::mutex load_mutex;

}  // namespace

DeviceSelection select_devices(const std::string & gpu) {
    if (gpu != "auto" && gpu != "cpu" && gpu != "cuda" && gpu != "vulkan" && gpu != "metal") {
        throw NativeFailure("native.input", "gpu must be \"auto\", \"cpu\", \"cuda\", \"vulkan\" or \"metal\", got \"" + gpu + "\"");
    }
    std::lock_guard<std::mutex> lock(load_mutex);
    std::vector<Registry> registries = loaded_registries();
    if (registries.empty()) {
        throw NativeFailure("native.backend",
            "no ggml backend registry is loaded in this process: node-llama-cpp must be loaded (getLlama) before the "
            "gradient extension; create the policy through NativePolicy.create, which does so");
    }
    const std::string wanted = backend_name_for(gpu);
    std::vector<DeviceSelection> found;
    for (Registry & r : registries) {
        // node-llama-cpp registers its backends at getLlama(); load them from the variant's folder if it has not.
        bool has_cpu = false;
        for (ggml_backend_dev_t d : devices_of(r)) has_cpu = has_cpu || ggml_backend_dev_type(d) == GGML_BACKEND_DEVICE_TYPE_CPU;
        if (!has_cpu) r.load_all_from_path(directory_of(r.path).c_str());
        DeviceSelection s;
        s.registry_path = r.path;
        for (ggml_backend_dev_t d : devices_of(r)) {
            if (!s.cpu && ggml_backend_dev_type(d) == GGML_BACKEND_DEVICE_TYPE_CPU) s.cpu = d;
            if (!s.gpu && gpu != "cpu" && is_gpu(d)) {
                const char * reg = ggml_backend_reg_name(ggml_backend_dev_backend_reg(d));
                if (wanted.empty() || (reg && wanted == reg)) s.gpu = d;
            }
        }
        if (s.cpu) found.push_back(s);
    }
    // A registry with the wanted GPU (for "auto": any GPU) first; "auto" and "cpu" settle for the CPU.
    for (const DeviceSelection & s : found) {
        if (s.gpu) return s;
    }
    if ((gpu == "auto" || gpu == "cpu") && !found.empty()) return found.front();
    if (wanted.empty()) {
        throw NativeFailure("native.backend", "no ggml CPU device in the loaded registry " + registries.front().path +
            "; reinstall node-llama-cpp (its prebuilt package ships the libggml-cpu-*.so variants)");
    }
    std::string seen;
    for (const std::string & d : list_devices()) seen += (seen.empty() ? "" : ", ") + d;
    throw NativeFailure("native.backend", "gpu \"" + gpu + "\": no " + wanted + " device in the ggml node-llama-cpp loaded (devices: " +
        (seen.empty() ? "none" : seen) + ")" +
        (gpu == "vulkan" ? "; a CPU-type Vulkan device such as llvmpipe is listed only with GGML_VK_VISIBLE_DEVICES=0" : ""));
}

std::string device_label(ggml_backend_dev_t dev) {
    if (!dev) return "none";
    if (ggml_backend_dev_type(dev) == GGML_BACKEND_DEVICE_TYPE_CPU) return "CPU";
    const char * name = ggml_backend_dev_name(dev);
    const char * description = ggml_backend_dev_description(dev);
    return std::string(name ? name : "?") + " (" + (description ? description : "?") + ")";
}

bool needs_fresh_context_per_graph(ggml_backend_dev_t dev) {
    // GLRL_FRESH_CONTEXT=0|1 overrides (bench/vulkanTrainLoop.ts shows the abort with 0).
    if (const char * forced = getenv("GLRL_FRESH_CONTEXT")) return std::string(forced) != "0";
    const char * description = dev ? ggml_backend_dev_description(dev) : nullptr;
    return description && std::string(description).find("llvmpipe") != std::string::npos;
}

std::vector<std::string> list_devices() {
    std::vector<std::string> out;
    for (const Registry & r : loaded_registries()) {
        for (ggml_backend_dev_t d : devices_of(r)) out.push_back(device_label(d) + " [" + r.path + "]");
    }
    return out;
}

void set_backend_threads(ggml_backend_t backend, int n_threads) {
    ggml_backend_dev_t dev = ggml_backend_get_device(backend);
    if (!dev || ggml_backend_dev_type(dev) != GGML_BACKEND_DEVICE_TYPE_CPU) return;
    ggml_backend_reg_t reg = ggml_backend_dev_backend_reg(dev);
    auto fn = reg ? (ggml_backend_set_n_threads_t) ggml_backend_reg_get_proc_address(reg, "ggml_backend_set_n_threads") : nullptr;
    if (fn) fn(backend, n_threads);
}

namespace {

void * cpu_proc(ggml_backend_t backend, const char * name) {
    ggml_backend_dev_t dev = ggml_backend_get_device(backend);
    if (!dev || ggml_backend_dev_type(dev) != GGML_BACKEND_DEVICE_TYPE_CPU) return nullptr;
    ggml_backend_reg_t reg = ggml_backend_dev_backend_reg(dev);
    return reg ? ggml_backend_reg_get_proc_address(reg, name) : nullptr;
}

}  // namespace

ggml_threadpool_t make_cpu_threadpool(ggml_backend_t backend, int n_threads, int poll) {
    auto make = (ggml_threadpool_t (*)(ggml_threadpool_params *)) cpu_proc(backend, "ggml_threadpool_new");
    auto set = (void (*)(ggml_backend_t, ggml_threadpool_t)) cpu_proc(backend, "ggml_backend_cpu_set_threadpool");
    if (!make || !set) return nullptr;
    ggml_threadpool_params params = ggml_threadpool_params_default(n_threads);
    params.poll = (uint32_t) poll;
    ggml_threadpool_t pool = make(&params);
    if (pool) set(backend, pool);
    return pool;
}

void free_cpu_threadpool(ggml_backend_t backend, ggml_threadpool_t pool) {
    if (!pool) return;
    auto set = (void (*)(ggml_backend_t, ggml_threadpool_t)) cpu_proc(backend, "ggml_backend_cpu_set_threadpool");
    auto free_pool = (void (*)(ggml_threadpool_t)) cpu_proc(backend, "ggml_threadpool_free");
    if (set) set(backend, nullptr);
    if (free_pool) free_pool(pool);
}

}  // namespace glrl
