// The Qwen2 / Qwen3-dense training graph, as plain ggml calls (like ggml's examples/mnist/mnist-common.cpp).
//
// Algorithm (R rows of T tokens, M completion tokens):
//   0. Packing (pack_batch): one row per sequence, or — when sequences share their prompt and the cost model
//      prefers it — one row per prompt: prompt, then completion 1, completion 2, …; completion g's tokens take
//      positions |prompt|, |prompt|+1, … and see the prompt and their own earlier tokens (block-causal mask).
//      Cost of a layout = R·(T·c_linear + T²·c_attention) per layer (padding and masked entries included).
//   1. x = get_rows(tok_embd, tokens)                                        [E, T·R]
//   2. per layer: h = rms_norm(x)·attn_norm; q/k/v = W·h (+bias) (+ scale·B·A·h for LoRA);
//      qwen3: per-head rms_norm of q and k; NEOX rope (with the file's linear/YaRN scaling) on q, k; GQA
//      attention as soft_max_ext(kᵀq·1/√D + mask) then ·v (flash attention has no backward);
//      x += W_o·attn; h = rms_norm(x)·ffn_norm; x += W_down·(silu(W_gate·h) ⊙ W_up·h)
//      (the last layer's output projection and MLP only at the M positions the head reads)
//   3. h = rms_norm(x)·output_norm, only at the M positions that predict a completion token   [E, M]
//   4. p = softmax(W_out·h / T), in chunks of positions (qwen2Head.cpp)        [V, m] each
//   5. log p of each target token = log(get_rows(p as [1, V·m], target + V·(m − first)))   [M]
//   6. training: objective = Σ_m c_m · log p_m (a scalar, reported); the autodiff differentiates
//      Σ h ⊙ G with G = d objective / d h written out by qwen2Head.cpp (ggml_set_loss)
// softmax then log (rather than a log_softmax op, which ggml lacks) is exact in f32 unless p < 1e-38, i.e.
// log p < -87 — far below anything a trainer samples or a cross-entropy step moves.
#include "qwen2Graph.h"

#include <algorithm>
#include <climits>
#include <limits>
#include <map>

namespace glrl {

namespace {

void check_sequences(const std::vector<SequenceInput> & batch, const Qwen2Hparams & hp) {
    if (batch.empty()) throw NativeFailure("native.input", "empty batch: pass at least one token sequence");
    for (size_t b = 0; b < batch.size(); ++b) {
        const auto & s = batch[b];
        const int t = (int) s.tokens.size();
        if (s.completion_start < 1 || s.completion_start > t) {
            throw NativeFailure("native.input", "sequence " + std::to_string(b) + ": completionStart " +
                std::to_string(s.completion_start) + " is outside 1.." + std::to_string(t) +
                " (a completion token needs at least one token before it)");
        }
        if (hp.n_ctx_train > 0 && t > hp.n_ctx_train) {
            throw NativeFailure("native.input", "sequence " + std::to_string(b) + " has " + std::to_string(t) +
                " tokens, more than the model's context_length " + std::to_string(hp.n_ctx_train));
        }
        for (int32_t tok : s.tokens) {
            if (tok < 0 || tok >= hp.n_vocab) {
                throw NativeFailure("native.input", "sequence " + std::to_string(b) + ": token id " + std::to_string(tok) +
                    " is outside the vocabulary [0, " + std::to_string(hp.n_vocab) + ")");
            }
        }
    }
}

// Rows as lists of sequence indices: each row = one prompt group (when shared) or one sequence.
std::vector<std::vector<int>> group_rows(const std::vector<SequenceInput> & batch, bool share) {
    std::vector<std::vector<int>> rows;
    std::map<std::vector<int32_t>, size_t> by_prompt;
    for (int b = 0; b < (int) batch.size(); ++b) {
        if (!share) {
            rows.push_back({b});
            continue;
        }
        std::vector<int32_t> prompt(batch[b].tokens.begin(), batch[b].tokens.begin() + batch[b].completion_start);
        auto it = by_prompt.find(prompt);
        if (it == by_prompt.end()) {
            by_prompt.emplace(std::move(prompt), rows.size());
            rows.push_back({b});
        } else {
            rows[it->second].push_back(b);
        }
    }
    return rows;
}

int row_length(const std::vector<SequenceInput> & batch, const std::vector<int> & members) {
    int n = batch[members[0]].completion_start;
    for (int b : members) n += (int) batch[b].tokens.size() - batch[b].completion_start;
    return std::max(n, (int) batch[members[0]].tokens.size());
}

// Relative cost of a layout per layer: every row is computed at the padded length T, attention over all T².
double layout_cost(const std::vector<SequenceInput> & batch, const std::vector<std::vector<int>> & rows, const Qwen2Hparams & hp) {
    int t = 0;
    for (const auto & r : rows) t = std::max(t, row_length(batch, r));
    const double E = hp.n_embd, QD = (double) hp.n_head * hp.head_dim, KD = (double) hp.n_head_kv * hp.head_dim;
    const double linear = 2.0 * (E * (QD + 2 * KD) + QD * E + 3 * E * hp.n_ff);   // FLOPs per token
    const double attention = 4.0 * QD;                                             // FLOPs per (query, key)
    return (double) rows.size() * ((double) t * linear + (double) t * t * attention);
}

}  // namespace

PackedBatch pack_batch(const std::vector<SequenceInput> & batch, const Qwen2Hparams & hp, PromptSharing sharing) {
    check_sequences(batch, hp);
    std::vector<std::vector<int>> rows = group_rows(batch, sharing != PromptSharing::never);
    if (sharing == PromptSharing::cheaper && rows.size() < batch.size()) {
        std::vector<std::vector<int>> single = group_rows(batch, false);
        if (layout_cost(batch, single, hp) <= layout_cost(batch, rows, hp)) rows = std::move(single);
    }
    PackedBatch p;
    p.n_rows = (int) rows.size();
    for (const auto & r : rows) {
        p.n_tokens = std::max(p.n_tokens, row_length(batch, r));
        p.shared = p.shared || r.size() > 1;
    }
    const int T = p.n_tokens, R = p.n_rows;
    const float ninf = -std::numeric_limits<float>::infinity();
    p.tokens.assign((size_t) T * R, 0);
    p.positions.assign((size_t) T * R, 0);
    p.mask.assign((size_t) T * T * R, ninf);
    // Where each sequence's tokens sit: index in [T·R] of tokens[i] (prompt tokens shared within a row).
    std::vector<std::vector<int32_t>> where(batch.size());
    for (int r = 0; r < R; ++r) {
        const auto & members = rows[r];
        const int base = r * T;
        const int prompt = batch[members[0]].completion_start;
        float * mask = p.mask.data() + (size_t) r * T * T;   // row i = query, column j = key
        for (int i = 0; i < prompt; ++i) {
            p.tokens[base + i] = batch[members[0]].tokens[i];
            p.positions[base + i] = i;
            for (int j = 0; j <= i; ++j) mask[(size_t) i * T + j] = 0.0f;
        }
        int at = prompt;
        for (int b : members) {
            const auto & s = batch[b];
            where[b].resize(s.tokens.size());
            for (int i = 0; i < prompt; ++i) where[b][i] = base + i;
            const int start = at;
            for (int i = prompt; i < (int) s.tokens.size(); ++i, ++at) {
                p.tokens[base + at] = s.tokens[i];
                p.positions[base + at] = i;
                where[b][i] = base + at;
                for (int j = 0; j < prompt; ++j) mask[(size_t) at * T + j] = 0.0f;
                for (int j = start; j <= at; ++j) mask[(size_t) at * T + j] = 0.0f;
            }
        }
        // Padding queries see only themselves (a fully masked row would be NaN, and NaN · 0 poisons the backward);
        // their outputs are never read.
        for (int i = at; i < T; ++i) {
            p.positions[base + i] = i;
            mask[(size_t) i * T + i] = 0.0f;
        }
    }
    int m = 0;
    for (size_t b = 0; b < batch.size(); ++b) {
        const auto & s = batch[b];
        for (int i = s.completion_start; i < (int) s.tokens.size(); ++i) {
            p.rows.push_back(where[b][i - 1]);
            p.targets.push_back(s.tokens[i]);
            ++m;
        }
        p.counts.push_back((int) s.tokens.size() - s.completion_start);
    }
    return p;
}

namespace {

ggml_tensor * input(ggml_context * ctx, GraphTensors & g, ggml_type type, int64_t ne0, int64_t ne1 = 1, int64_t ne2 = 1, int64_t ne3 = 1) {
    ggml_tensor * t = ggml_new_tensor_4d(ctx, type, ne0, ne1, ne2, ne3);
    ggml_set_input(t);
    g.inputs.push_back(t);
    return t;
}

// W·x (+ scale·B·(A·dropout(x)) when a LoRA pair targets this weight).
ggml_tensor * linear(ggml_context * ctx, const Qwen2Model & model, ggml_tensor * w, ggml_tensor * bias, ggml_tensor * x,
                     const char * target, int layer, const std::vector<LoraPair> * pairs, GraphTensors & g) {
    ggml_tensor * y = ggml_mul_mat(ctx, w, x);
    if (pairs) {
        for (size_t i = 0; i < pairs->size(); ++i) {
            const auto & pair = (*pairs)[i];
            if (pair.layer != layer || pair.target != target) continue;
            ggml_tensor * xd = x;
            if (!g.dropout_masks.empty()) {
                // keep = step(u − p) on a window u of the device's uniform pool: 1 with probability 1 − p.
                const int64_t elements = x->ne[0] * x->ne[1];
                ggml_tensor * u = ggml_view_2d(ctx, model.dropout_pool, x->ne[0], x->ne[1], x->ne[0] * sizeof(float),
                                               (size_t) model.dropout_offset(i, elements) * sizeof(float));
                g.dropout_masks[i] = ggml_step(ctx, ggml_scale_bias(ctx, u, 1.0f, -model.lora_dropout));
                xd = ggml_scale(ctx, ggml_mul(ctx, x, g.dropout_masks[i]), 1.0f / (1.0f - model.lora_dropout));
            }
            ggml_tensor * ax = ggml_mul_mat(ctx, pair.a, xd);    // [r, N]
            ggml_tensor * bax = ggml_mul_mat(ctx, pair.b, ax);   // [n_out, N]
            y = ggml_add(ctx, y, ggml_scale(ctx, bax, model.lora_scale));
        }
    }
    if (bias) y = ggml_add(ctx, y, bias);
    return y;
}

ggml_tensor * rope(ggml_context * ctx, ggml_tensor * x, ggml_tensor * positions, const Qwen2Hparams & hp) {
    return ggml_rope_ext(ctx, x, positions, nullptr, /*n_dims =*/ hp.head_dim, GGML_ROPE_TYPE_NEOX,
                         /*n_ctx_orig =*/ hp.rope_n_ctx_orig, hp.rope_freq_base, hp.rope_freq_scale,
                         hp.rope_ext_factor, hp.rope_attn_factor, hp.rope_beta_fast, hp.rope_beta_slow);
}

}  // namespace

GraphTensors build_qwen2_graph(ggml_context * ctx, const Qwen2Model & model, const PackedBatch & packed,
                               const std::vector<LoraPair> * pairs, float temperature, bool training, bool coefficients_late,
                               int64_t head_chunk) {
    const Qwen2Hparams & hp = model.hparams();
    const int64_t T = packed.n_tokens, R = packed.n_rows, n = T * R;
    const int64_t m = (int64_t) packed.rows.size();
    const int64_t d = hp.head_dim;
    GraphTensors g;

    g.tokens = input(ctx, g, GGML_TYPE_I32, n);
    g.positions = input(ctx, g, GGML_TYPE_I32, n);
    g.mask = input(ctx, g, GGML_TYPE_F32, T, T, 1, R);   // [T keys, T queries, 1, R], shared by the heads
    g.rows = input(ctx, g, GGML_TYPE_I32, m);
    g.targets = input(ctx, g, GGML_TYPE_I32, m);
    if (training && pairs && model.lora_dropout > 0.0f) g.dropout_masks.assign(pairs->size(), nullptr);
    if (pairs && pairs->empty()) pairs = nullptr;

    ggml_tensor * x = ggml_get_rows(ctx, model.tok_embd, g.tokens);   // [E, T·R]
    const float kq_scale = 1.0f / std::sqrt((float) d);

    for (int il = 0; il < hp.n_layer; ++il) {
        const Qwen2Layer & L = model.layers[il];
        g.checkpoints.push_back(x);
        ggml_tensor * h = ggml_mul(ctx, ggml_rms_norm(ctx, x, hp.rms_eps), L.attn_norm);

        ggml_tensor * q = linear(ctx, model, L.wq, L.bq, h, "attn_q", il, pairs, g);   // [H·D, T·R]
        ggml_tensor * k = linear(ctx, model, L.wk, L.bk, h, "attn_k", il, pairs, g);   // [Hkv·D, T·R]
        ggml_tensor * v = linear(ctx, model, L.wv, L.bv, h, "attn_v", il, pairs, g);   // [Hkv·D, T·R]
        q = ggml_reshape_3d(ctx, q, d, hp.n_head, n);      // [D, H, T·R]
        k = ggml_reshape_3d(ctx, k, d, hp.n_head_kv, n);   // [D, Hkv, T·R]
        if (L.q_norm) q = ggml_mul(ctx, ggml_rms_norm(ctx, q, hp.rms_eps), L.q_norm);
        if (L.k_norm) k = ggml_mul(ctx, ggml_rms_norm(ctx, k, hp.rms_eps), L.k_norm);
        q = rope(ctx, q, g.positions, hp);
        k = rope(ctx, k, g.positions, hp);

        // Heads and rows share dim 2 ([H·R] with the head fastest): ggml's mul_mat backward handles the GQA
        // broadcast in 3-D only, and q head r·H + h then maps onto k head (r·H + h)/(H/Hkv) = r·Hkv + h·Hkv/H.
        ggml_tensor * qp = ggml_cont(ctx, ggml_permute(ctx, ggml_reshape_4d(ctx, q, d, hp.n_head, T, R), 0, 2, 1, 3));     // [D, T, H, R]
        ggml_tensor * kp = ggml_cont(ctx, ggml_permute(ctx, ggml_reshape_4d(ctx, k, d, hp.n_head_kv, T, R), 0, 2, 1, 3));  // [D, T, Hkv, R]
        qp = ggml_reshape_3d(ctx, qp, d, T, hp.n_head * R);                   // [D, T, H·R]
        kp = ggml_reshape_3d(ctx, kp, d, T, hp.n_head_kv * R);                // [D, T, Hkv·R]
        ggml_tensor * kq = ggml_mul_mat(ctx, kp, qp);                          // [T keys, T queries, H·R]
        ggml_prec_set_acc(kq, GGML_PREC_F32);   // as llama.cpp: attention logits need f32's range on GPUs
        // The mask is per row: softmax over [T, T, H, R] with the mask [T, T, 1, R] broadcast over heads.
        kq = ggml_soft_max_ext(ctx, ggml_reshape_4d(ctx, kq, T, T, hp.n_head, R), g.mask, kq_scale, /*max_bias =*/ 0.0f);
        kq = ggml_reshape_3d(ctx, kq, T, T, hp.n_head * R);
        ggml_tensor * v4 = ggml_reshape_4d(ctx, v, d, hp.n_head_kv, T, R);
        ggml_tensor * vt = ggml_cont(ctx, ggml_permute(ctx, v4, 1, 2, 0, 3));  // [T, D, Hkv, R]
        vt = ggml_reshape_3d(ctx, vt, T, d, hp.n_head_kv * R);                // [T, D, Hkv·R]
        ggml_tensor * kqv = ggml_mul_mat(ctx, vt, kq);                          // [D, T, H·R]
        kqv = ggml_reshape_4d(ctx, kqv, d, T, hp.n_head, R);
        ggml_tensor * attn = ggml_cont(ctx, ggml_permute(ctx, kqv, 0, 2, 1, 3)); // [D, H, T, R]
        attn = ggml_reshape_2d(ctx, attn, d * hp.n_head, n);                    // [H·D, T·R]
        if (il == hp.n_layer - 1) {
            // The last layer's output is read at the M positions only: the rest of it (output projection, MLP)
            // runs there only.
            attn = ggml_get_rows(ctx, attn, g.rows);   // [H·D, M]
            x = ggml_get_rows(ctx, x, g.rows);         // [E, M]
        }
        x = ggml_add(ctx, x, linear(ctx, model, L.wo, nullptr, attn, "attn_output", il, pairs, g));

        h = ggml_mul(ctx, ggml_rms_norm(ctx, x, hp.rms_eps), L.ffn_norm);
        ggml_tensor * gate = linear(ctx, model, L.w_gate, nullptr, h, "ffn_gate", il, pairs, g);  // [F, T·R] ([F, M] last)
        ggml_tensor * up = linear(ctx, model, L.w_up, nullptr, h, "ffn_up", il, pairs, g);        // [F, T·R] ([F, M] last)
        ggml_tensor * act = ggml_swiglu_split(ctx, gate, up);
        x = ggml_add(ctx, x, linear(ctx, model, L.w_down, nullptr, act, "ffn_down", il, pairs, g));
    }

    g.checkpoints.push_back(x);
    // Only the M positions that predict a completion token reach the [V, ·] head (x is the last layer's there).
    ggml_tensor * h = ggml_mul(ctx, ggml_rms_norm(ctx, x, hp.rms_eps), model.output_norm);   // [E, M]
    g.head = build_head(ctx, model.output ? model.output : model.tok_embd, h, g.targets, temperature, head_chunk);
    g.logprobs = g.head.logprobs;                                                          // [M]
    ggml_set_output(g.logprobs);

    if (training) {
        g.coefficients = input(ctx, g, GGML_TYPE_F32, m);
        g.head_coefficients = g.coefficients;
        if (coefficients_late) {
            // The coefficients enter through a factor that is exactly 1 but depends on the log-probs —
            // 1 − step(log p − 1), with log p ≤ 0, and ggml's autodiff passes nothing back through step — so every
            // node that reads them depends on the log-probs and no backend that reorders a graph (ggml-vulkan's
            // graph_optimize) runs any of it before them: the coefficient function sets them in between.
            ggml_tensor * one = ggml_scale_bias(ctx, ggml_step(ctx, ggml_scale_bias(ctx, g.logprobs, 1.0f, -1.0f)), -1.0f, 1.0f);
            g.head_coefficients = ggml_mul(ctx, g.coefficients, one);   // [M]
        }
        g.objective = ggml_sum(ctx, ggml_mul(ctx, g.logprobs, g.head_coefficients));
        ggml_set_output(g.objective);
        g.head_grad = ggml_new_tensor_2d(ctx, GGML_TYPE_F32, h->ne[0], m);
        g.loss = ggml_sum(ctx, ggml_mul(ctx, h, g.head_grad));
        ggml_set_loss(g.loss);
    }
    return g;
}

}  // namespace glrl
