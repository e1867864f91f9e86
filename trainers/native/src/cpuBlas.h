// f32 matrix products through OpenBLAS's sgemm inside a CPU graph (cpuBlas.cpp; docs/native.md, "Speed and memory").
#pragma once

#include <string>

#include "ggml.h"

namespace glrl {

// OpenBLAS, loaded at run time (libopenblas.so.0) once per process: "OpenBLAS 0.3.21 … (Cooperlake)", or "" when
// it is not installed (then every product stays a ggml kernel).
const std::string & cpu_blas_name();

// Whether `node` (a MUL_MAT or OUT_PROD of f32 matrices, plain or transposed views, batched planes with ggml's
// broadcast) can be computed by sgemm, and large enough for that to pay.
bool cpu_blas_takes(const ggml_tensor * node);

// Turns such a node, in place (its consumers keep it), into a custom op that computes the same product with sgemm,
// split over the CPU backend's threads (one single-threaded sgemm per thread and slice).
void as_cpu_blas(ggml_context * ctx, ggml_tensor * node);

}  // namespace glrl
