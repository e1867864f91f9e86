/**
 * Training throughput of the native gradient extension (forward + backward + AdamW update) and peak memory,
 * on the tiny demo model and on a 0.5B-shaped Qwen2 with random weights (no download), f32 and q8_0, on the
 * CPU and on Vulkan (lavapipe: Mesa's CPU implementation — it shows the GPU code path runs, not GPU speed).
 * `GL_RL_THREADS=2 npx tsx bench/train.ts [--layers N] [--skip-large] [--skip-vulkan] [--torch] [--no-blas]` — prints
 * a Markdown table; never part of the tests. On the CPU the f32 products go through OpenBLAS when it is installed
 * (`apt-get install -y libopenblas0`; the engine column names it); `--no-blas` keeps ggml's own kernels. `--torch` adds the same configurations in PyTorch (Debian's
 * /usr/bin/python3 with python3-torch: `apt-get install -y python3-torch libopenblas0-openmp`, torch 1.13): an
 * equivalent Qwen2 in eager PyTorch (matmul + softmax causal attention), the same LoRA targets/rank and AdamW,
 * the same threads — a reference point, not part of gl-rl.
 *
 * Each configuration runs in its own child process (`--child <json>`), so peak RSS is that run's alone.
 * tokens/s counts every token of the batch (the forward and backward cover them all; the loss covers the
 * completion half). One warm-up step, then `steps` timed steps of accumulateGradients + step.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { mulberry32 } from "../runtime/mulberry32.js";
import { DEFAULT_TINY_MODEL_DIMS, writeTinyModel, type TinyModelDims } from "../models/writeTinyModel.js";
import { defaultCpuThreads } from "../runtime/environment.js";
import { quantizeModel } from "../trainers/native/quantizeModel.js";
import { NativePolicy, type PolicyDevice } from "../trainers/nativePolicy.js";
import type { TokenSequence } from "../trainers/policyBackend.js";

interface Run {
  label: string;
  /** [E, layers, heads, kvHeads, FFN, V] for the PyTorch reference. */
  dims: number[];
  modelPath: string;
  trainable: "lora" | "all";
  rank: number;
  sequences: number;
  tokensPerSequence: number;
  steps: number;
  vocab: number;
  /** Default "cpu". */
  gpu?: PolicyDevice;
  /** Extra environment of the child (Vulkan's device list). */
  env?: Record<string, string>;
  /** No PyTorch row for this one (same shapes as the row above it). */
  noTorch?: boolean;
  /** f32 products through OpenBLAS on the CPU (NativePolicy's cpuBlas); default true. */
  cpuBlas?: boolean;
}

interface Result {
  tokensPerSecond: number;
  secondsPerStep: number;
  peakRssMiB: number;
  trainableParameters: number;
  firstLoss: number;
  lastLoss: number;
  /** Where the graph ran and the share of its nodes there (gl-rl only). */
  device?: string;
  /** The BLAS library of the CPU products (gl-rl only), null: ggml's kernels. */
  cpuBlas?: string | null;
  nodeShare?: number | null;
  /** GPU memory in use after the steps (the scheduler keeps its buffers: ≈ the peak), MiB. */
  deviceMemoryMiB?: number;
}

/** VmHWM of this process (Linux): unlike getrusage's maxRSS it is not inherited from the parent across exec. */
function peakRssMiB(): number {
  const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync("/proc/self/status", "utf8"));
  return match ? Number(match[1]) / 1024 : process.resourceUsage().maxRSS / 1024;
}

async function child(run: Run): Promise<Result> {
  const policy = await NativePolicy.create({
    modelPath: run.modelPath,
    trainable: run.trainable,
    gpu: run.gpu ?? "cpu",
    cpuBlas: run.cpuBlas ?? true,
    // No dropout: the PyTorch reference has none (NativePolicy's default for real-sized models is 0.1).
    lora: { rank: run.rank, alpha: 2 * run.rank, dropout: 0 },
  });
  const random = mulberry32(12345);
  const next = (): number => Math.floor(random() * run.vocab);
  const batch: TokenSequence[] = Array.from({ length: run.sequences }, () => ({
    tokens: Array.from({ length: run.tokensPerSequence }, next),
    completionStart: run.tokensPerSequence / 2,
  }));
  const n = batch.reduce((sum, q) => sum + q.tokens.length - q.completionStart, 0);
  const ce = batch.map((q) => new Float32Array(q.tokens.length - q.completionStart).fill(-1 / n));
  const adamw = { learningRate: 1e-3, maxGradNorm: 1, weightDecay: 0, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 };
  const trainStep = async (): Promise<number> => {
    const { objective } = await policy.accumulateGradients(batch, ce);
    await policy.step(adamw);
    return objective;
  };
  const firstLoss = await trainStep(); // warm-up
  const t0 = performance.now();
  let lastLoss = firstLoss;
  for (let i = 0; i < run.steps; i++) lastLoss = await trainStep();
  const seconds = (performance.now() - t0) / 1000;
  const { trainableParameters, device, deviceNodeShare, deviceMemory, cpuBlas } = policy.info();
  await policy.dispose();
  return {
    device,
    cpuBlas,
    nodeShare: deviceNodeShare,
    ...(deviceMemory ? { deviceMemoryMiB: deviceMemory.usedMiB } : {}),
    tokensPerSecond: (run.steps * run.sequences * run.tokensPerSequence) / seconds,
    secondsPerStep: seconds / run.steps,
    peakRssMiB: peakRssMiB(),
    trainableParameters,
    firstLoss,
    lastLoss,
  };
}

const argv = process.argv.slice(2);
if (argv[0] === "--child") {
  console.log(JSON.stringify(await child(JSON.parse(argv[1]!) as Run)));
  process.exit(0);
}

const layersArg = argv.indexOf("--layers");
const largeLayers = layersArg >= 0 ? Number(argv[layersArg + 1]) : 24;
const deviceArg = argv.indexOf("--device");
/** `--device <gpu>`: the device table (bench/device.sh): tiny and 0.5B-shaped, LoRA r 8 and r 64, CPU vs that device. */
const deviceTable = deviceArg >= 0 ? (argv[deviceArg + 1] as PolicyDevice) : undefined;
const dir = mkdtempSync(join(tmpdir(), "bench-train-"));
const runs: Run[] = [];
const tiny = await writeTinyModel({ out: join(dir, "tiny.gguf"), seed: 1 });
const tinyLora: Run = {
  label: "tiny demo, LoRA r=8 (7 targets)",
  dims: [tiny.dims.embedding, tiny.dims.layers, tiny.dims.heads, tiny.dims.kvHeads, tiny.dims.ffn, tiny.vocabSize],
  modelPath: tiny.path,
  trainable: "lora",
  rank: 8,
  sequences: 8,
  tokensPerSequence: 64,
  steps: 10,
  vocab: tiny.vocabSize,
};
let largeRun: Run | undefined;
if (!argv.includes("--skip-large")) {
  const dims: TinyModelDims = {
    ...DEFAULT_TINY_MODEL_DIMS,
    embedding: 896,
    layers: largeLayers,
    heads: 14,
    kvHeads: 2,
    ffn: 4864,
    context: 1024,
    tied: true,
  };
  const large = await writeTinyModel({ out: join(dir, "qwen2-0.5b-shaped.gguf"), seed: 2, dims, vocabulary: "full" });
  largeRun = {
    label: `0.5B-shaped Qwen2 (d=896, ${largeLayers} layers, 14/2 heads, FFN 4864, V=${large.vocabSize} tied, f32), LoRA r=8`,
    dims: [896, largeLayers, 14, 2, 4864, large.vocabSize],
    modelPath: large.path,
    trainable: "lora",
    rank: 8,
    sequences: 1,
    tokensPerSequence: 256,
    steps: 3,
    vocab: large.vocabSize,
  };
}
if (deviceTable) {
  // CPU vs the device, r 8 and r 64; `--skip-large-gpu` keeps the 0.5B model off a slow device (lavapipe).
  const vulkan: Record<string, string> =
    deviceTable === "vulkan" ? { GGML_VK_VISIBLE_DEVICES: process.env.GGML_VK_VISIBLE_DEVICES ?? "0" } : {};
  for (const base of [tinyLora, largeRun]) {
    if (!base) continue;
    for (const rank of [8, 64]) {
      for (const gpu of ["cpu", deviceTable] as PolicyDevice[]) {
        if (gpu !== "cpu" && base === largeRun && argv.includes("--skip-large-gpu")) continue;
        // lavapipe runs a tiny step in seconds: 3 timed steps there.
        const steps = gpu === "vulkan" ? Math.min(3, base.steps) : base.steps;
        runs.push({
          ...base,
          label: base.label.replace("r=8", `r=${rank}`),
          rank,
          gpu,
          env: vulkan,
          steps,
          noTorch: true,
        });
      }
    }
  }
} else {
  runs.push(
    {
      ...tinyLora,
      label: `tiny demo (d=${tiny.dims.embedding}, ${tiny.dims.layers} layers, V=${tiny.vocabSize}), all weights`,
      trainable: "all",
    },
    tinyLora,
  );
  if (largeRun) {
    const q8 = join(dir, "qwen2-0.5b-shaped-q8_0.gguf");
    await quantizeModel(largeRun.modelPath, q8, "q8_0");
    runs.push(largeRun, { ...largeRun, label: largeRun.label.replace("f32", "q8_0"), modelPath: q8, noTorch: true });
  }
  if (!argv.includes("--skip-vulkan")) {
    runs.push({
      ...tinyLora,
      label: "tiny demo, LoRA r=8, Vulkan (lavapipe: a CPU posing as a GPU; no target)",
      gpu: "vulkan",
      env: { GGML_VK_VISIBLE_DEVICES: "0" },
      steps: 3,
      noTorch: true,
    });
  }
}

// `--no-blas`: every product through ggml's own CPU kernels (what OpenBLAS changes).
if (argv.includes("--no-blas")) for (const run of runs) run.cpuBlas = false;

// The PyTorch reference: same shapes, same batch, same update (argv[1] = the run as JSON, dims in it).
const TORCH_SCRIPT = String.raw`
import json, re, sys, time, torch, torch.nn as nn, torch.nn.functional as F
run = json.loads(sys.argv[1]); torch.set_num_threads(run["threads"]); torch.manual_seed(0)
E, L, H, KV, FF, V = run["dims"]; D = E // H
class RMSNorm(nn.Module):  # torch 1.13 (Debian) has no nn.RMSNorm
    def __init__(s, n): super().__init__(); s.weight = nn.Parameter(torch.ones(n))
    def forward(s, x): return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-6) * s.weight
class Lin(nn.Module):
    def __init__(s, i, o, bias, lora):
        super().__init__(); s.w = nn.Linear(i, o, bias=bias); s.w.requires_grad_(not lora)
        s.a = nn.Parameter(torch.randn(run["rank"], i) / i ** 0.5) if lora else None
        s.b = nn.Parameter(torch.zeros(o, run["rank"])) if lora else None
    def forward(s, x):
        y = s.w(x)
        return y + (x @ s.a.t() @ s.b.t()) * 2.0 if s.a is not None else y
lora = run["trainable"] == "lora"
class Layer(nn.Module):
    def __init__(s):
        super().__init__(); s.n1 = RMSNorm(E); s.n2 = RMSNorm(E)
        s.q = Lin(E, H * D, True, lora); s.k = Lin(E, KV * D, True, lora); s.v = Lin(E, KV * D, True, lora); s.o = Lin(H * D, E, False, lora)
        s.g = Lin(E, FF, False, lora); s.u = Lin(E, FF, False, lora); s.d = Lin(FF, E, False, lora)
    def forward(s, x, cos, sin):
        B, T, _ = x.shape; h = s.n1(x)
        q = s.q(h).view(B, T, H, D).transpose(1, 2); k = s.k(h).view(B, T, KV, D).transpose(1, 2); v = s.v(h).view(B, T, KV, D).transpose(1, 2)
        rot = lambda t: torch.cat([-t[..., D // 2:], t[..., :D // 2]], -1)
        q = q * cos + rot(q) * sin; k = k * cos + rot(k) * sin
        k = k.repeat_interleave(H // KV, 1); v = v.repeat_interleave(H // KV, 1)
        att = (q @ k.transpose(-1, -2)) / D ** 0.5 + causal  # torch 1.13 has no scaled_dot_product_attention
        a = (att.softmax(-1) @ v).transpose(1, 2).reshape(B, T, H * D)
        x = x + s.o(a); h = s.n2(x)
        return x + s.d(F.silu(s.g(h)) * s.u(h))
emb = nn.Embedding(V, E); emb.weight.requires_grad_(not lora)
layers = nn.ModuleList([Layer() for _ in range(L)]); norm = RMSNorm(E)
nn.init.normal_(emb.weight, std=0.02)  # as writeTinyModel's random weights
named = list(emb.named_parameters()) + list(layers.named_parameters()) + list(norm.named_parameters())
for n, p in named: p.requires_grad_(not lora or n.endswith((".a", ".b")))
params = [p for _, p in named if p.requires_grad]
opt = torch.optim.AdamW(params, lr=1e-3, weight_decay=0.0)
B, T = run["sequences"], run["tokensPerSequence"]
tokens = torch.randint(0, V, (B, T)); pos = torch.arange(T).float()
inv = 1.0 / (1e6 ** (torch.arange(0, D, 2).float() / D)); ang = torch.outer(pos, inv); ang = torch.cat([ang, ang], -1)
cos, sin = ang.cos(), ang.sin()
causal = torch.full((T, T), float("-inf")).triu(1)
def step():
    x = emb(tokens)
    for l in layers: x = l(x, cos, sin)
    h = norm(x[:, T // 2 - 1:T - 1]); logits = h @ emb.weight.t()
    loss = F.cross_entropy(logits.reshape(-1, V), tokens[:, T // 2:].reshape(-1))
    opt.zero_grad(); loss.backward(); torch.nn.utils.clip_grad_norm_(params, 1.0); opt.step(); return loss.item()
first = step(); t0 = time.time()
for _ in range(run["steps"]): last = step()
sec = time.time() - t0
hwm = int(re.search(r"VmHWM:\s+(\d+)", open("/proc/self/status").read()).group(1)) / 1024
print(json.dumps({"tokensPerSecond": run["steps"] * B * T / sec, "secondsPerStep": sec / run["steps"], "peakRssMiB": hwm,
    "trainableParameters": sum(p.numel() for p in params), "firstLoss": first, "lastLoss": last}))
`;

function torchRun(run: Run, dims: number[]): Result | undefined {
  try {
    const out = execFileSync(
      "/usr/bin/python3",
      ["-c", TORCH_SCRIPT, JSON.stringify({ ...run, dims, threads: defaultCpuThreads() })],
      { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] },
    );
    return JSON.parse(out.trim().split("\n").pop()!) as Result;
  } catch (error) {
    console.error(`PyTorch run failed: ${error instanceof Error ? error.message.split("\n")[0] : String(error)}`);
    return undefined;
  }
}

const self = fileURLToPath(import.meta.url);
console.log(`threads ${defaultCpuThreads()}, batch = sequences × tokens, loss on the second half of each sequence`);
console.log(
  "| configuration | engine | trainable params | batch | s/step | tokens/s | peak RSS MiB | loss first → last | ratio |\n|---|---|---:|---|---:|---:|---:|---|---:|",
);
const row = (run: Run, engine: string, r: Result, ratio = ""): void =>
  console.log(
    `| ${run.label} | ${engine} | ${r.trainableParameters.toLocaleString("en")} | ${run.sequences}×${run.tokensPerSequence} | ${r.secondsPerStep.toFixed(3)} | ${r.tokensPerSecond.toFixed(0)} | ${r.peakRssMiB.toFixed(0)} | ${r.firstLoss.toFixed(3)} → ${r.lastLoss.toFixed(3)} | ${ratio} |`,
  );
for (const run of runs) {
  const out = execFileSync(process.execPath, [...process.execArgv, self, "--child", JSON.stringify(run)], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "ignore"],
    env: { ...process.env, ...run.env },
  });
  const ours = JSON.parse(out.trim().split("\n").pop()!) as Result;
  const share =
    (ours.nodeShare === null || ours.nodeShare === undefined
      ? ""
      : `, ${(100 * ours.nodeShare).toFixed(0)} % of nodes`) +
    (ours.deviceMemoryMiB === undefined ? "" : `, ${ours.deviceMemoryMiB.toFixed(0)} MiB device memory in use`);
  const torch = argv.includes("--torch") && !run.noTorch ? torchRun(run, run.dims) : undefined;
  const blas = ours.cpuBlas ? ` + ${ours.cpuBlas.split(" ").slice(0, 2).join(" ")} sgemm` : "";
  row(
    run,
    `gl-rl native (ggml${blas}, ${ours.device}${share})`,
    ours,
    torch ? `${(ours.tokensPerSecond / torch.tokensPerSecond).toFixed(2)}×` : "",
  );
  if (torch) row(run, "PyTorch (reference)", torch);
}
rmSync(dir, { recursive: true, force: true });
