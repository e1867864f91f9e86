// The backward pass built for speed and for every backend (backwardRewrite.cpp).
#pragma once

#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "ggml.h"

namespace glrl {

// What the rewrite knows about the frozen weights.
struct FrozenWeights {
    // W → its transpose stored at load (the output head: its in-graph transpose would be as large as the head).
    const std::unordered_map<const ggml_tensor *, ggml_tensor *> & stored;
    // Every other frozen matrix the backward multiplies by (the layers'): transposed inside the graph.
    const std::unordered_set<const ggml_tensor *> & in_graph;
    // [≥ max n_out] I32 0, 1, 2, …: get_rows of all rows dequantizes a quantized W (every backend has it).
    ggml_tensor * arange;
};

// Backward nodes (graph nodes from n_forward on) that read a forward SwiGLU output read a copy computed again
// from its inputs instead, which the backward keeps anyway: the forward's [F, T] output is freed after the forward.
void recompute_in_backward(ggml_context * ctx, ggml_cgraph * graph, int n_forward);

// Activation recompute (docs/native.md, "Activation recompute"): every forward node strictly between the first and
// the last checkpoint (each layer's input; the last layer's output) that a backward node reads is replaced, for
// the backward, by a copy computed again from the checkpoints — copies of its forward sources, recursively, down to
// checkpoints, weights and inputs. The originals' last use is then in the forward, so the allocator frees them
// there; the copies of a layer are computed just before that layer's backward needs them (graph order follows the
// sources). Subsumes recompute_in_backward.
void recompute_layers(ggml_context * ctx, ggml_cgraph * graph, int n_forward, const std::vector<ggml_tensor *> & checkpoints);

// Where the graph runs: a GPU backend, or the CPU with or without OpenBLAS (cpuBlas.h).
enum class ProductTarget { gpu, cpu, cpu_blas };

// Rewrites the OUT_PROD nodes (ggml's autodiff's, the head's) that `roots` need by the length of their contraction (the
// frozen-weight ones into MUL_MATs against the stored transposes; see backwardRewrite.cpp) and, on the CPU,
// the forward's short-contraction MUL_MATs into OUT_PRODs — with OpenBLAS, every f32 product large enough into an
// sgemm instead; then returns a new graph (no gradient bookkeeping) holding `roots` and everything they need,
// each node after its sources.
ggml_cgraph * rewrite_backward(ggml_context * ctx, const std::vector<ggml_tensor *> & roots, const FrozenWeights & frozen,
                               size_t graph_size, ProductTarget target);

}  // namespace glrl
