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

// Rewrites the OUT_PROD nodes that ggml's autodiff put into `graph` by the length of their contraction (the
// frozen-weight ones into MUL_MATs against the stored transposes; see backwardRewrite.cpp) and, on the CPU
// (`cpu`), the forward's short-contraction MUL_MATs into OUT_PRODs; then returns a new graph (no gradient
// bookkeeping) holding `roots` and everything they need, each node after its sources.
ggml_cgraph * rewrite_backward(ggml_context * ctx, ggml_cgraph * graph, const std::vector<ggml_tensor *> & roots,
                               const FrozenWeights & frozen, size_t graph_size, bool cpu);

}  // namespace glrl
