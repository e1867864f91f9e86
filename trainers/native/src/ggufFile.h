// GgufFile: one GGUF file opened for reading, with every metadata read typed. ggml's gguf_get_val_* abort the
// process on a key of another type; here a missing key or a wrong type is a NativeFailure ("native.gguf") that
// names the file, the key, what it holds and what was expected.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "ggml.h"
#include "gguf.h"

namespace glrl {

// An error with a stable code ("native.gguf", "native.shape", "native.input", …); the addon turns it into a
// rejected Promise whose `code` the TS layer maps onto NativeError.
struct NativeFailure : std::runtime_error {
    std::string code;
    NativeFailure(std::string code_, const std::string & message) : std::runtime_error(message), code(std::move(code_)) {}
};

class GgufFile {
public:
    // what: "model", "LoRA adapter", "checkpoint" (for messages). with_data: tensor data read into meta().
    GgufFile(const std::string & path, bool with_data, const std::string & what);
    ~GgufFile();
    GgufFile(const GgufFile &) = delete;
    GgufFile & operator=(const GgufFile &) = delete;

    const gguf_context * gguf() const { return gguf_; }
    ggml_context * meta() const { return meta_; }
    const std::string & path() const { return path_; }
    // "model /path/x.gguf" — the start of every message about this file.
    std::string label() const { return what_ + " " + path_; }

    bool has(const std::string & key) const { return gguf_find_key(gguf_, key.c_str()) >= 0; }
    // Integers of any width; a float, string or array is an error. Without a fallback the key is required.
    int64_t get_int(const std::string & key) const;
    int64_t get_int(const std::string & key, int64_t fallback) const;
    // f32/f64 (integers accepted too).
    double get_float(const std::string & key) const;
    double get_float(const std::string & key, double fallback) const;
    std::string get_string(const std::string & key) const;
    std::string get_string(const std::string & key, const std::string & fallback) const;
    bool get_bool(const std::string & key, bool fallback) const;

    // A tensor's metadata (shape, type) or nullptr.
    ggml_tensor * tensor(const std::string & name) const { return ggml_get_tensor(meta_, name.c_str()); }

    [[noreturn]] void fail(const std::string & code, const std::string & message) const;

private:
    int64_t key_id(const std::string & key, bool required) const;
    std::string type_of(int64_t id) const;

    std::string path_, what_;
    gguf_context * gguf_ = nullptr;
    ggml_context * meta_ = nullptr;
};

// "[896, 151936]"
std::string shape_string(const ggml_tensor * t);
std::string shape_string(const std::vector<int64_t> & shape);

// Writes a gguf context atomically: "<path>.tmp-<pid>", then rename.
void write_gguf_atomically(const gguf_context * g, const std::string & path);

}  // namespace glrl
