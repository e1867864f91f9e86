#!/usr/bin/env python3
"""The PyTorch + peft baseline of the device table (docs/native.md, "The GPU kit"; run by gpukit/run.sh).

Reads the plan bench/deviceTable.ts wrote (shapes, LoRA ranks, dropouts, sequences x tokens) and, for each shape
x rank x dropout x dtype (bf16, f32), builds the same random Qwen2 with transformers (tied head, the plan's
vocabulary size), wraps it with peft LoRA on every linear layer (q, k, v, o, gate, up, down; alpha = 2r), and
times what the native extension's accumulateGradients does: the forward over 8 x T tokens, log-softmax of the
next token over the completion half, sum of coefficient x log p, backward. One warm-up call, then calls until
the row's share of --seconds is spent. Writes one JSON row per line to <plan dir>/torch.jsonl: tokens/s and
peak memory (torch.cuda.max_memory_allocated, MiB). Without CUDA (--device cpu) it measures the CPU.

usage: python3 torchBaseline.py --plan <dir>/plan.json --device cuda|cpu [--seconds 150]
"""
import argparse
import json
import os
import sys
import time


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--plan", required=True)
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--seconds", type=float, default=150.0)
    args = parser.parse_args()
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import Qwen2Config, Qwen2ForCausalLM

    plan = json.load(open(args.plan))
    out_path = os.path.join(os.path.dirname(os.path.abspath(args.plan)), "torch.jsonl")
    device = torch.device(args.device if args.device == "cpu" or torch.cuda.is_available() else "cpu")
    # The f32 rows measure true f32 products (the extension's f32 check forces them too).
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    rows = [
        (shape, rank, dropout, dtype)
        for shape in plan["shapes"]
        for rank in plan["ranks"]
        for dropout in plan["dropouts"]
        for dtype in ("bf16", "f32")
    ]
    deadline = time.time() + args.seconds
    seqs, tokens = plan["sequences"], plan["tokens"]
    with open(out_path, "w") as out:
        for i, (shape, rank, dropout, dtype) in enumerate(rows):
            key = {"model": shape["name"], "rank": rank, "dropout": dropout, "dtype": dtype,
                   "sequences": seqs, "tokens": tokens, "device": str(device)}
            left = deadline - time.time()
            if left < 5:
                out.write(json.dumps({**key, "skipped": "no time"}) + "\n")
                continue
            budget = left / (len(rows) - i)
            started = time.time()
            try:
                d = shape["dims"]
                config = Qwen2Config(
                    vocab_size=shape["vocab"], hidden_size=d["embedding"], intermediate_size=d["ffn"],
                    num_hidden_layers=d["layers"], num_attention_heads=d["heads"],
                    num_key_value_heads=d["kvHeads"], max_position_embeddings=max(d["context"], tokens),
                    tie_word_embeddings=True, attn_implementation="sdpa",
                )
                torch.manual_seed(7)
                model = Qwen2ForCausalLM(config).to(device=device, dtype=torch.bfloat16 if dtype == "bf16" else torch.float32)
                model = get_peft_model(model, LoraConfig(
                    r=rank, lora_alpha=2 * rank, lora_dropout=dropout,
                    target_modules=["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"],
                ))
                model.train()
                if device.type == "cuda":
                    torch.cuda.reset_peak_memory_stats()
                ids = torch.randint(1, shape["vocab"] - 1, (seqs, tokens), device=device)
                start = tokens // 2
                coeff = torch.full((seqs, tokens - start), -1.0 / (seqs * tokens), device=device)

                def call():
                    logits = model(input_ids=ids).logits[:, start - 1:-1].float()
                    logp = torch.log_softmax(logits, dim=-1).gather(-1, ids[:, start:, None]).squeeze(-1)
                    (coeff * logp).sum().backward()
                    if device.type == "cuda":
                        torch.cuda.synchronize()

                call()
                calls = 0
                timed = time.time()
                while True:
                    call()
                    calls += 1
                    if time.time() - started >= budget or calls >= 20:
                        break
                s = time.time() - timed
                row = {**key, "tokensPerSecond": calls * seqs * tokens / s, "calls": calls, "seconds": s,
                       "peakDeviceMiB": torch.cuda.max_memory_allocated() / 2**20 if device.type == "cuda" else None}
            except Exception as error:  # an OOM is a row of the table, not the end of it
                row = {**key, "error": f"{type(error).__name__}: {str(error)[:300]}"}
            finally:
                model = None
                if device.type == "cuda":
                    torch.cuda.empty_cache()
            out.write(json.dumps(row) + "\n")
            out.flush()
            print(json.dumps(row), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
