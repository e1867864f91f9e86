// The Qwen2 / Qwen3-dense training graph, as plain ggml calls (like ggml's examples/mnist/mnist-common.cpp).
//
// Algorithm (B sequences right-padded to T tokens, M completion tokens):
//   1. x = get_rows(tok_embd, tokens)                                        [E, T·B]
//   2. per layer: h = rms_norm(x)·attn_norm; q/k/v = W·h (+bias) (+ scale·B·A·h for LoRA);
//      qwen3: per-head rms_norm of q and k; NEOX rope on q, k; GQA attention as
//      soft_max_ext(kᵀq, causal mask, 1/√D) per sequence then ·v (flash attention has no backward);
//      x += W_o·attn; h = rms_norm(x)·ffn_norm; x += W_down·(silu(W_gate·h) ⊙ W_up·h)
//   3. h = rms_norm(x)·output_norm, only at the M positions that predict a completion token   [E, M]
//   4. p = softmax(W_out·h / T)                                                [V, M]
//   5. log p of each target token = log(get_rows(p as [1, V·M], target + V·m))          [M]
//   6. training: objective = Σ_m c_m · log p_m (a scalar; ggml_set_loss; its gradient is what we accumulate)
// softmax then log (rather than a log_softmax op, which ggml lacks) is exact in f32 unless p < 1e-38, i.e.
// log p < -87 — far below anything a trainer samples or a cross-entropy step moves.
#include <algorithm>
#include <cmath>
#include <climits>
#include <limits>

#include "qwen2Model.h"

namespace glrl {

PackedBatch pack_batch(const std::vector<SequenceInput> & batch, int n_vocab, int n_ctx_max) {
    PackedBatch p;
    if (batch.empty()) throw NativeFailure("native.input", "empty batch: pass at least one token sequence");
    int t_max = 0;
    for (size_t b = 0; b < batch.size(); ++b) {
        const auto & s = batch[b];
        const int t = (int) s.tokens.size();
        if (s.completion_start < 1 || s.completion_start > t) {
            throw NativeFailure("native.input", "sequence " + std::to_string(b) + ": completionStart " +
                std::to_string(s.completion_start) + " is outside 1.." + std::to_string(t) +
                " (a completion token needs at least one token before it)");
        }
        if (n_ctx_max > 0 && t > n_ctx_max) {
            throw NativeFailure("native.input", "sequence " + std::to_string(b) + " has " + std::to_string(t) +
                " tokens, more than the model's context_length " + std::to_string(n_ctx_max));
        }
        for (int32_t tok : s.tokens) {
            if (tok < 0 || tok >= n_vocab) {
                throw NativeFailure("native.input", "sequence " + std::to_string(b) + ": token id " + std::to_string(tok) +
                    " is outside the vocabulary [0, " + std::to_string(n_vocab) + ")");
            }
        }
        t_max = std::max(t_max, t);
    }
    int64_t completion = 0;
    for (const auto & s : batch) completion += (int64_t) s.tokens.size() - s.completion_start;
    if (completion * (int64_t) n_vocab > INT32_MAX) {
        // targets index the [V, M] probabilities as one int32 row index
        throw NativeFailure("native.input", "batch has " + std::to_string(completion) + " completion tokens; with a " +
            std::to_string(n_vocab) + "-token vocabulary at most " + std::to_string(INT32_MAX / n_vocab) + " fit in one call — split the batch");
    }
    const int n_seq = (int) batch.size();
    p.n_tokens = t_max;
    p.n_seqs = n_seq;
    // Padding goes after each sequence: causal attention never lets a real token see it, and its outputs are unused.
    p.tokens.assign((size_t) t_max * n_seq, 0);
    p.positions.resize((size_t) t_max * n_seq);
    p.mask.assign((size_t) t_max * t_max, -std::numeric_limits<float>::infinity());
    for (int i = 0; i < t_max; ++i) {
        for (int j = 0; j <= i; ++j) p.mask[(size_t) i * t_max + j] = 0.0f;   // row = query i, column = key j
    }
    int m = 0;
    for (int b = 0; b < n_seq; ++b) {
        const auto & s = batch[b];
        const int t = (int) s.tokens.size();
        for (int i = 0; i < t_max; ++i) {
            if (i < t) p.tokens[(size_t) b * t_max + i] = s.tokens[i];
            p.positions[(size_t) b * t_max + i] = i;
        }
        for (int i = s.completion_start; i < t; ++i) {
            p.rows.push_back(b * t_max + i - 1);
            p.targets.push_back(s.tokens[i] + n_vocab * m);
            ++m;
        }
        p.counts.push_back(t - s.completion_start);
    }
    return p;
}

// W·x (+ scale·B·(A·dropout(x)) when a LoRA pair targets this weight and LoRA is on).
static ggml_tensor * linear(ggml_context * ctx, const Qwen2Model & model, ggml_tensor * w, ggml_tensor * bias,
                            ggml_tensor * x, const char * target, int layer, bool reference, GraphTensors & g) {
    ggml_tensor * y = ggml_mul_mat(ctx, w, x);
    if (!reference) {
        for (size_t i = 0; i < model.lora.size(); ++i) {
            const auto & pair = model.lora[i];
            if (pair.layer == layer && pair.target == target) {
                ggml_tensor * xd = x;
                if (!g.dropout_masks.empty()) {
                    g.dropout_masks[i] = ggml_new_tensor_2d(ctx, GGML_TYPE_F32, x->ne[0], x->ne[1]);
                    ggml_set_input(g.dropout_masks[i]);
                    xd = ggml_mul(ctx, x, g.dropout_masks[i]);
                }
                ggml_tensor * ax = ggml_mul_mat(ctx, pair.a, xd);    // [r, N]
                ggml_tensor * bax = ggml_mul_mat(ctx, pair.b, ax);   // [n_out, N]
                y = ggml_add(ctx, y, ggml_scale(ctx, bax, model.lora_scale));
            }
        }
    }
    if (bias) y = ggml_add(ctx, y, bias);
    return y;
}

GraphTensors build_qwen2_graph(ggml_context * ctx, const Qwen2Model & model, const PackedBatch & packed,
                               bool reference, float temperature, bool training) {
    const Qwen2Hparams & hp = model.hparams();
    const int64_t T = packed.n_tokens, B = packed.n_seqs, n = T * B;
    const int64_t m = (int64_t) packed.rows.size();
    const int64_t d = hp.head_dim;
    GraphTensors g;

    g.tokens = ggml_new_tensor_1d(ctx, GGML_TYPE_I32, n);
    g.positions = ggml_new_tensor_1d(ctx, GGML_TYPE_I32, n);
    g.mask = ggml_new_tensor_2d(ctx, GGML_TYPE_F32, T, T);   // [T keys, T queries], shared by heads and sequences
    g.rows = ggml_new_tensor_1d(ctx, GGML_TYPE_I32, m);
    g.targets = ggml_new_tensor_1d(ctx, GGML_TYPE_I32, m);
    for (ggml_tensor * t : {g.tokens, g.positions, g.mask, g.rows, g.targets}) ggml_set_input(t);

    if (training && !reference && model.lora_dropout > 0.0f) g.dropout_masks.assign(model.lora.size(), nullptr);

    ggml_tensor * x = ggml_get_rows(ctx, model.tok_embd, g.tokens);   // [E, T·B]
    const float kq_scale = 1.0f / std::sqrt((float) d);

    for (int il = 0; il < hp.n_layer; ++il) {
        const Qwen2Layer & L = model.layers[il];
        ggml_tensor * h = ggml_mul(ctx, ggml_rms_norm(ctx, x, hp.rms_eps), L.attn_norm);

        ggml_tensor * q = linear(ctx, model, L.wq, L.bq, h, "attn_q", il, reference, g);   // [H·D, T·B]
        ggml_tensor * k = linear(ctx, model, L.wk, L.bk, h, "attn_k", il, reference, g);   // [Hkv·D, T·B]
        ggml_tensor * v = linear(ctx, model, L.wv, L.bv, h, "attn_v", il, reference, g);   // [Hkv·D, T·B]
        q = ggml_reshape_3d(ctx, q, d, hp.n_head, n);      // [D, H, T·B]
        k = ggml_reshape_3d(ctx, k, d, hp.n_head_kv, n);   // [D, Hkv, T·B]
        if (L.q_norm) q = ggml_mul(ctx, ggml_rms_norm(ctx, q, hp.rms_eps), L.q_norm);
        if (L.k_norm) k = ggml_mul(ctx, ggml_rms_norm(ctx, k, hp.rms_eps), L.k_norm);
        q = ggml_rope_ext(ctx, q, g.positions, nullptr, /*n_dims =*/ (int) d, GGML_ROPE_TYPE_NEOX,
                          /*n_ctx_orig =*/ hp.n_ctx_train, hp.rope_freq_base, /*freq_scale =*/ 1.0f,
                          /*ext_factor =*/ 0.0f, /*attn_factor =*/ 1.0f, /*beta_fast =*/ 32.0f, /*beta_slow =*/ 1.0f);
        k = ggml_rope_ext(ctx, k, g.positions, nullptr, (int) d, GGML_ROPE_TYPE_NEOX, hp.n_ctx_train,
                          hp.rope_freq_base, 1.0f, 0.0f, 1.0f, 32.0f, 1.0f);

        // Heads and sequences share dim 2 ([H·B] with the head fastest): ggml's mul_mat backward handles the
        // GQA broadcast in 3-D only, and q head b·H + h then maps onto k head (b·H + h)/(H/Hkv) = b·Hkv + h·Hkv/H.
        ggml_tensor * qp = ggml_cont(ctx, ggml_permute(ctx, ggml_reshape_4d(ctx, q, d, hp.n_head, T, B), 0, 2, 1, 3));     // [D, T, H, B]
        ggml_tensor * kp = ggml_cont(ctx, ggml_permute(ctx, ggml_reshape_4d(ctx, k, d, hp.n_head_kv, T, B), 0, 2, 1, 3));  // [D, T, Hkv, B]
        qp = ggml_reshape_3d(ctx, qp, d, T, hp.n_head * B);                   // [D, T, H·B]
        kp = ggml_reshape_3d(ctx, kp, d, T, hp.n_head_kv * B);                // [D, T, Hkv·B]
        ggml_tensor * kq = ggml_mul_mat(ctx, kp, qp);                          // [T keys, T queries, H·B]
        kq = ggml_soft_max_ext(ctx, kq, g.mask, kq_scale, /*max_bias =*/ 0.0f);
        ggml_tensor * v4 = ggml_reshape_4d(ctx, v, d, hp.n_head_kv, T, B);
        ggml_tensor * vt = ggml_cont(ctx, ggml_permute(ctx, v4, 1, 2, 0, 3));  // [T, D, Hkv, B]
        vt = ggml_reshape_3d(ctx, vt, T, d, hp.n_head_kv * B);                // [T, D, Hkv·B]
        ggml_tensor * kqv = ggml_mul_mat(ctx, vt, kq);                          // [D, T, H·B]
        kqv = ggml_reshape_4d(ctx, kqv, d, T, hp.n_head, B);
        ggml_tensor * attn = ggml_cont(ctx, ggml_permute(ctx, kqv, 0, 2, 1, 3)); // [D, H, T, B]
        attn = ggml_reshape_2d(ctx, attn, d * hp.n_head, n);                    // [H·D, T·B]
        x = ggml_add(ctx, x, linear(ctx, model, L.wo, nullptr, attn, "attn_output", il, reference, g));

        h = ggml_mul(ctx, ggml_rms_norm(ctx, x, hp.rms_eps), L.ffn_norm);
        ggml_tensor * gate = linear(ctx, model, L.w_gate, nullptr, h, "ffn_gate", il, reference, g);  // [F, T·B]
        ggml_tensor * up = linear(ctx, model, L.w_up, nullptr, h, "ffn_up", il, reference, g);        // [F, T·B]
        ggml_tensor * act = ggml_swiglu_split(ctx, gate, up);
        x = ggml_add(ctx, x, linear(ctx, model, L.w_down, nullptr, act, "ffn_down", il, reference, g));
    }

    // Only the M positions that predict a completion token reach the [V, ·] head: it is the biggest matmul.
    ggml_tensor * h = ggml_get_rows(ctx, x, g.rows);                                       // [E, M]
    h = ggml_mul(ctx, ggml_rms_norm(ctx, h, hp.rms_eps), model.output_norm);
    ggml_tensor * logits = ggml_mul_mat(ctx, model.output ? model.output : model.tok_embd, h);   // [V, M]
    ggml_tensor * probs = ggml_soft_max_ext(ctx, logits, nullptr, 1.0f / temperature, 0.0f);     // [V, M]
    ggml_tensor * picked = ggml_get_rows(ctx, ggml_reshape_2d(ctx, probs, 1, hp.n_vocab * m), g.targets);  // [1, M]
    g.logprobs = ggml_log(ctx, ggml_reshape_1d(ctx, picked, m));                           // [M]
    ggml_set_output(g.logprobs);

    if (training) {
        g.coefficients = ggml_new_tensor_1d(ctx, GGML_TYPE_F32, m);
        ggml_set_input(g.coefficients);
        g.objective = ggml_sum(ctx, ggml_mul(ctx, g.logprobs, g.coefficients));
        ggml_set_output(g.objective);
        ggml_set_loss(g.objective);
    }
    return g;
}

}  // namespace glrl
