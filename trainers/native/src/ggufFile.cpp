#include "ggufFile.h"

#include <cstdio>
#include <cstring>
#include <fstream>
#include <unistd.h>

namespace glrl {

GgufFile::GgufFile(const std::string & path, bool with_data, const std::string & what) : path_(path), what_(what) {
    std::ifstream probe(path, std::ios::binary);
    if (!probe) fail("native.file", "cannot be opened: no such file or no read permission");
    char magic[4] = {0, 0, 0, 0};
    probe.read(magic, 4);
    if (probe.gcount() != 4 || std::memcmp(magic, "GGUF", 4) != 0) {
        fail("native.gguf", "is not GGUF: expected magic 'GGUF' at byte 0; pass a .gguf file");
    }
    // gguf_init_from_file validates the header, every key, the tensor infos (types, dims, overflow, offsets) and,
    // with data, the file size; it returns NULL (never aborts) on a bad file.
    gguf_init_params params = {/*no_alloc =*/ !with_data, /*ctx =*/ &meta_};
    gguf_ = gguf_init_from_file(path.c_str(), params);
    if (!gguf_) {
        fail("native.gguf", "is a truncated or corrupt GGUF (gguf_init_from_file failed: bad header, key, tensor info or size)");
    }
}

GgufFile::~GgufFile() {
    if (gguf_) gguf_free(gguf_);
    if (meta_) ggml_free(meta_);
}

void GgufFile::fail(const std::string & code, const std::string & message) const {
    throw NativeFailure(code, label() + " " + message);
}

int64_t GgufFile::key_id(const std::string & key, bool required) const {
    const int64_t id = gguf_find_key(gguf_, key.c_str());
    if (id < 0 && required) fail("native.gguf", "lacks metadata key " + key);
    return id;
}

std::string GgufFile::type_of(int64_t id) const {
    const gguf_type t = gguf_get_kv_type(gguf_, id);
    if (t == GGUF_TYPE_ARRAY) return std::string("an array of ") + gguf_type_name(gguf_get_arr_type(gguf_, id));
    return std::string("of type ") + gguf_type_name(t);
}

static int64_t read_int(const gguf_context * g, int64_t id, bool & ok) {
    ok = true;
    switch (gguf_get_kv_type(g, id)) {
        case GGUF_TYPE_UINT8: return gguf_get_val_u8(g, id);
        case GGUF_TYPE_INT8: return gguf_get_val_i8(g, id);
        case GGUF_TYPE_UINT16: return gguf_get_val_u16(g, id);
        case GGUF_TYPE_INT16: return gguf_get_val_i16(g, id);
        case GGUF_TYPE_UINT32: return gguf_get_val_u32(g, id);
        case GGUF_TYPE_INT32: return gguf_get_val_i32(g, id);
        case GGUF_TYPE_UINT64: {
            const uint64_t v = gguf_get_val_u64(g, id);
            ok = v <= (uint64_t) INT64_MAX;
            return (int64_t) v;
        }
        case GGUF_TYPE_INT64: return gguf_get_val_i64(g, id);
        default: ok = false; return 0;
    }
}

int64_t GgufFile::get_int(const std::string & key) const {
    const int64_t id = key_id(key, true);
    bool ok = false;
    const int64_t v = read_int(gguf_, id, ok);
    if (!ok) fail("native.gguf", "has metadata " + key + " " + type_of(id) + ", expected an integer");
    return v;
}

int64_t GgufFile::get_int(const std::string & key, int64_t fallback) const {
    return has(key) ? get_int(key) : fallback;
}

double GgufFile::get_float(const std::string & key) const {
    const int64_t id = key_id(key, true);
    const gguf_type t = gguf_get_kv_type(gguf_, id);
    if (t == GGUF_TYPE_FLOAT32) return gguf_get_val_f32(gguf_, id);
    if (t == GGUF_TYPE_FLOAT64) return gguf_get_val_f64(gguf_, id);
    bool ok = false;
    const int64_t v = read_int(gguf_, id, ok);
    if (!ok) fail("native.gguf", "has metadata " + key + " " + type_of(id) + ", expected a number");
    return (double) v;
}

double GgufFile::get_float(const std::string & key, double fallback) const {
    return has(key) ? get_float(key) : fallback;
}

std::string GgufFile::get_string(const std::string & key) const {
    const int64_t id = key_id(key, true);
    if (gguf_get_kv_type(gguf_, id) != GGUF_TYPE_STRING) {
        fail("native.gguf", "has metadata " + key + " " + type_of(id) + ", expected a string");
    }
    return gguf_get_val_str(gguf_, id);
}

std::string GgufFile::get_string(const std::string & key, const std::string & fallback) const {
    return has(key) ? get_string(key) : fallback;
}

bool GgufFile::get_bool(const std::string & key, bool fallback) const {
    if (!has(key)) return fallback;
    const int64_t id = key_id(key, true);
    if (gguf_get_kv_type(gguf_, id) != GGUF_TYPE_BOOL) {
        fail("native.gguf", "has metadata " + key + " " + type_of(id) + ", expected a bool");
    }
    return gguf_get_val_bool(gguf_, id);
}

std::string shape_string(const std::vector<int64_t> & shape) {
    std::string s = "[";
    for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
    return s + "]";
}

std::string shape_string(const ggml_tensor * t) {
    std::vector<int64_t> shape;
    for (int i = 0; i < ggml_n_dims(t); ++i) shape.push_back(t->ne[i]);
    return shape_string(shape);
}

void write_gguf_atomically(const gguf_context * g, const std::string & path) {
    const std::string tmp = path + ".tmp-" + std::to_string(getpid());
    if (!gguf_write_to_file(g, tmp.c_str(), /*only_meta =*/ false)) {
        std::remove(tmp.c_str());
        throw NativeFailure("native.write", "cannot write " + tmp + " (directory missing or disk full?)");
    }
    if (std::rename(tmp.c_str(), path.c_str()) != 0) {
        std::remove(tmp.c_str());
        throw NativeFailure("native.write", "cannot rename " + tmp + " to " + path);
    }
}

}  // namespace glrl
