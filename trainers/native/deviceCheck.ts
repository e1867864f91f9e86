/**
 * The native extension's checks on one ggml device, in a process of its own (a GPU backend's device list and
 * precision settings are fixed when node-llama-cpp first loads it). docs/native.md, "Checks".
 *
 *   1. Gradients: a LoRA policy on the device (tiny tied Qwen2, r 4, B ≠ 0, the head in chunks of 2 positions; the
 *      CPU reference scores it at once); every LoRA tensor of the last layer
 *      vs central finite differences (worst rel-L2; with `fd`), every LoRA gradient vs the CPU's (rel-L2), and the
 *      same gradients with the coefficients computed by a function inside the graph (one forward, one backward).
 *   2. Log-probs with a saved adapter (tiny untied Qwen2) vs node-llama-cpp on the same device and on the CPU
 *      (mean |Δ|, f32 KV cache).
 *   3. Where the training graph ran: the device's name and the share of graph nodes the scheduler put there.
 *
 * `node --import tsx trainers/native/deviceCheck.ts --gpu vulkan` prints the report, its precision and its
 * failures (deviceCheckFailures) as one JSON line, or `{ "error": { code, message } }`; the model tests and
 * bench/device.sh run it.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { GGML_TYPE, readGguf, writeGguf } from "../../models/ggufFile.js";
import { writeTinyModel } from "../../models/writeTinyModel.js";
import { NativePolicy, type PolicyDevice } from "../nativePolicy.js";
import {
  llamaLogprobs,
  meanAbsDelta,
  randomizeLoraB,
  sampleBatch,
  worstRelativeL2,
  sampleCoefficients,
  worstGradientError,
} from "./policyChecks.js";
import { quantizeModel } from "./quantizeModel.js";

export interface DeviceCheckReport {
  gpu: PolicyDevice;
  /** info().device of the policy, e.g. "Vulkan0 (llvmpipe (LLVM 15.0.6, 256 bits))". */
  device: string;
  /** Share of the training graph's nodes on the device, and the scheduler's splits. */
  nodeShare: number;
  splits: number;
  /** The ops of the training graph's nodes the scheduler left on the CPU (empty on a full-device graph). */
  cpuOps: string[];
  /** Worst rel-L2 of analytic vs central-difference gradients (null without `fd`). */
  gradientError: number | null;
  /** Worst rel-L2 of the device's analytic gradients vs the CPU's. */
  gradientVsCpu: number;
  /** Worst rel-L2 between a coefficient function's gradients (one graph) and the same coefficients passed in. */
  coefficientFunctionDelta: number;
  /** LoRA dropout 0.3: rel-L2 of the device's gradients vs the CPU's (the masks are made on the device from the same seed). */
  dropoutVsCpu: number;
  /** Activation recompute on the device: rel-L2 of its gradients vs the kept activations' (the same graph, recomputed). */
  recomputeDelta: number;
  /** Mean |Δ log p| vs node-llama-cpp on the same device, and on the CPU. */
  logprobDelta: number;
  logprobDeltaCpu: number;
  seconds: number;
}

const DIMS = { embedding: 32, layers: 2, heads: 4, kvHeads: 2, ffn: 64, context: 128 };

/** The device's policies score the head 2 positions at a time (several chunks run there), the CPU's all at once. */
const chunking = (gpu: PolicyDevice): { headChunk?: number } => (gpu === "cpu" ? {} : { headChunk: 2 });

async function gradients(
  modelPath: string,
  gpu: PolicyDevice,
  vocab: number,
  options: { dropout?: number; recompute?: boolean } = {},
) {
  const policy = await NativePolicy.create({
    modelPath,
    gpu,
    lora: { rank: 4, alpha: 8, seed: 1, ...(options.dropout ? { dropout: options.dropout } : {}) },
    ...(options.recompute ? { recompute: true } : {}),
    ...chunking(gpu),
  });
  randomizeLoraB(policy, 0.2);
  const batch = sampleBatch(7, vocab);
  const c = sampleCoefficients(batch);
  await policy.accumulateGradients(batch, c);
  return { policy, batch, c, grads: new Map(policy.trainableNames().map((n) => [n, policy.getGrad(n)])) };
}

/** Runs the checks on `gpu`; throws what NativePolicy.create throws when the device is missing. */
export async function checkDevice(gpu: PolicyDevice, options: { fd?: boolean } = {}): Promise<DeviceCheckReport> {
  const started = performance.now();
  const dir = mkdtempSync(join(tmpdir(), "gl-rl-device-check-"));
  try {
    const tied = await writeTinyModel({
      out: join(dir, "tied.gguf"),
      seed: 3,
      initStd: 0.3,
      dims: { ...DIMS, tied: true },
    });
    const untied = await writeTinyModel({
      out: join(dir, "untied.gguf"),
      seed: 4,
      initStd: 0.3,
      dims: { ...DIMS, tied: false },
    });

    const onDevice = await gradients(tied.path, gpu, tied.vocabSize);
    const info = onDevice.policy.info();
    const onCpu = await gradients(tied.path, "cpu", tied.vocabSize);
    await onCpu.policy.dispose();
    const gradientVsCpu = worstRelativeL2(onDevice.grads, onCpu.grads);
    // The same gradient with the coefficients computed from the forward of the same graph.
    const viaFunction = await NativePolicy.create({
      modelPath: tied.path,
      gpu,
      lora: { rank: 4, alpha: 8, seed: 1 },
      ...chunking(gpu),
    });
    randomizeLoraB(viaFunction, 0.2);
    await viaFunction.accumulateGradients(onDevice.batch, () => onDevice.c);
    const coefficientFunctionDelta = worstRelativeL2(
      new Map(viaFunction.trainableNames().map((n) => [n, viaFunction.getGrad(n)])),
      onDevice.grads,
    );
    await viaFunction.dispose();
    // Dropout masks made on the device from the seed must be the CPU's; recompute must give the kept activations' gradients.
    const dropped = [
      await gradients(tied.path, gpu, tied.vocabSize, { dropout: 0.3 }),
      await gradients(tied.path, "cpu", tied.vocabSize, { dropout: 0.3 }),
    ] as const;
    const recomputed = await gradients(tied.path, gpu, tied.vocabSize, { recompute: true });
    for (const run of [...dropped, recomputed]) await run.policy.dispose();
    const dropoutVsCpu = worstRelativeL2(dropped[0].grads, dropped[1].grads);
    const recomputeDelta = worstRelativeL2(recomputed.grads, onDevice.grads);
    const lastLayer = onDevice.policy.trainableNames().filter((n) => n.startsWith(`blk.${DIMS.layers - 1}.`));
    const gradientError =
      options.fd === false ? null : await worstGradientError(onDevice.policy, lastLayer, onDevice.batch, onDevice.c, 2);
    await onDevice.policy.dispose();

    const adapter = join(dir, "adapter.gguf");
    const batch = sampleBatch(21, untied.vocabSize);
    const policy = await NativePolicy.create({ modelPath: untied.path, gpu, lora: { rank: 4, alpha: 8, seed: 2 } });
    let ours: Float32Array[];
    try {
      randomizeLoraB(policy, 0.3);
      ours = await policy.logprobs(batch);
      await policy.saveWeights(adapter);
    } finally {
      await policy.dispose();
    }
    return {
      gpu,
      device: info.device,
      nodeShare: info.deviceNodeShare ?? 0,
      splits: info.graphSplits,
      cpuOps: info.cpuOps,
      gradientError,
      gradientVsCpu,
      coefficientFunctionDelta,
      dropoutVsCpu,
      recomputeDelta,
      logprobDelta: meanAbsDelta(await llamaLogprobs(untied.path, batch, { adapter, gpu }), ours),
      logprobDeltaCpu: meanAbsDelta(await llamaLogprobs(untied.path, batch, { adapter, gpu: "cpu" }), ours),
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * What a report must satisfy, as a list of failures (empty = pass). "f32": the device computes in f32 (CPU, CUDA,
 * Vulkan with GGML_VK_DISABLE_F16=1) and must give the CPU's numbers; "f16": Vulkan's default shaders round
 * activations to f16 (node-llama-cpp's own Vulkan log-probs differ from its CPU ones too), so looser bounds and no
 * finite differences (they would measure the f16 rounding).
 */
export function deviceCheckFailures(report: DeviceCheckReport, precision: "f32" | "f16"): string[] {
  const f32 = precision === "f32";
  const bounds: [string, number | null, number][] = [
    ["gradientError", report.gradientError, 1e-2],
    ["gradientVsCpu", report.gradientVsCpu, f32 ? 1e-3 : 3e-2],
    ["coefficientFunctionDelta", report.coefficientFunctionDelta, 1e-5],
    ["dropoutVsCpu", report.dropoutVsCpu, f32 ? 1e-3 : 3e-2],
    ["recomputeDelta", report.recomputeDelta, 1e-5],
    ["logprobDelta", report.logprobDelta, f32 ? 1e-3 : 5e-3],
    ["logprobDeltaCpu", f32 ? report.logprobDeltaCpu : null, 1e-3],
  ];
  const failures = bounds
    .filter(([, value, bound]) => value !== null && !(value <= bound))
    .map(([name, value, bound]) => `${name} ${value} > ${bound}`);
  if (report.gpu !== "cpu" && report.splits !== 1)
    failures.push(`graph splits ${report.splits} ≠ 1 (ops on the CPU: ${report.cpuOps.join(", ") || "none listed"})`);
  if (report.gpu !== "cpu" && !(report.nodeShare >= 0.9))
    failures.push(`nodeShare ${report.nodeShare} < 0.9 (CPU fallback)`);
  return failures;
}

export interface QuantizedCheck {
  recipe: "q8_0" | "q4_K";
  /** Tensors per type the policy holds (the matrices stay quantized: no f32 copy). */
  weightTypes: Record<string, number>;
  /** Mean |Δ log p| vs node-llama-cpp on the same device, same file + adapter. */
  logprobDelta: number;
  /** Worst rel-L2 of the LoRA gradients vs those of the same weights dequantized to f32, on the same device. */
  gradientVsF32: number;
}

/**
 * The quantized path on `gpu` (trainers/nativePolicy.quantized.model.test.ts does the same on the CPU): a tied q8_0
 * base (rows of 32; the tied head's transpose) and an untied q4_K base (rows of 256), held quantized; log-probs vs
 * node-llama-cpp on the device; gradients vs the same weights dequantized by ggml into an f32 GGUF (the quantized
 * forward rounds activations to 8 bits, so finite differences of it measure that rounding, not a gradient).
 */
export async function checkQuantized(gpu: PolicyDevice): Promise<QuantizedCheck[]> {
  const dir = mkdtempSync(join(tmpdir(), "gl-rl-device-quantized-"));
  try {
    const out: QuantizedCheck[] = [];
    for (const [recipe, embedding, tied] of [
      ["q8_0", 32, true],
      ["q4_K", 256, false],
    ] as const) {
      const source = join(dir, `${recipe}-f32.gguf`);
      const { vocabSize } = await writeTinyModel({
        out: source,
        seed: 4,
        initStd: 0.05,
        dims: { layers: 2, heads: 4, kvHeads: 2, context: 64, tied, embedding, ffn: embedding * 2 },
      });
      const path = join(dir, `${recipe}.gguf`);
      await quantizeModel(source, path, recipe);
      const batch = sampleBatch(31, vocabSize);
      const c = sampleCoefficients(batch);
      const adapter = join(dir, `${recipe}-adapter.gguf`);
      const policy = await NativePolicy.create({ modelPath: path, gpu, lora: { rank: 4, alpha: 8, seed: 2 } });
      let ours: Float32Array[];
      let reference: string;
      const grads = new Map<string, Float32Array>();
      let weightTypes: Record<string, number>;
      try {
        weightTypes = policy.info().weightTypes;
        randomizeLoraB(policy, 0.3);
        ours = await policy.logprobs(batch);
        await policy.saveWeights(adapter);
        await policy.accumulateGradients(batch, c);
        for (const name of policy.trainableNames()) grads.set(name, policy.getGrad(name));
        const file = readGguf(path, { data: false });
        reference = join(dir, `${recipe}-dequantized.gguf`);
        writeGguf(reference, {
          metadata: file.metadata,
          tensors: file.tensors.map((t) => ({ ...t, type: GGML_TYPE.F32, data: policy.getTensor(t.name) })),
        });
      } finally {
        await policy.dispose();
      }
      const logprobDelta = meanAbsDelta(await llamaLogprobs(path, batch, { adapter, gpu }), ours);
      const f32 = await NativePolicy.create({ modelPath: reference, gpu, lora: { initPath: adapter } });
      let gradientVsF32: number;
      try {
        await f32.accumulateGradients(batch, c);
        gradientVsF32 = worstRelativeL2(grads, new Map(f32.trainableNames().map((n) => [n, f32.getGrad(n)])));
      } finally {
        await f32.dispose();
      }
      out.push({ recipe, weightTypes, logprobDelta, gradientVsF32 });
    }
    return out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Bounds of checkQuantized: the CPU test's (q8_0 1e-3, k-quants 1e-2 log-probs; gradients 10 %), ×2 below f32. */
export function quantizedCheckFailures(checks: QuantizedCheck[], precision: CheckPrecision): string[] {
  const loose = precision === "f32" ? 1 : 2;
  const failures: string[] = [];
  for (const q of checks) {
    const held = q.recipe === "q8_0" ? "q8_0" : "q4_K";
    if (!((q.weightTypes[held] ?? 0) > 0))
      failures.push(`${q.recipe}: no ${held} tensor held (${JSON.stringify(q.weightTypes)})`);
    const bound = (q.recipe === "q8_0" ? 1e-3 : 1e-2) * loose;
    if (!(q.logprobDelta <= bound)) failures.push(`${q.recipe} logprobDelta ${q.logprobDelta} > ${bound}`);
    if (!(q.gradientVsF32 <= 0.1 * loose))
      failures.push(`${q.recipe} gradientVsF32 ${q.gradientVsF32} > ${0.1 * loose}`);
  }
  return failures;
}

/**
 * `--precision`: "f32" (the CPU; CUDA with NVIDIA_TF32_OVERRIDE=0; Vulkan with GGML_VK_DISABLE_F16=1), "f16"
 * (Vulkan's default shaders) or "tf32" (CUDA's default: f32 products on TF32 tensor cores, a 10-bit mantissa like
 * f16's: the f16 bounds). Without it: f16 for Vulkan unless GGML_VK_DISABLE_F16 is set, else f32.
 */
export type CheckPrecision = "f32" | "f16" | "tf32";

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const argv = process.argv.slice(2);
  const option = (name: string): string | undefined => (argv.includes(name) ? argv[argv.indexOf(name) + 1] : undefined);
  const gpu = (option("--gpu") ?? "auto") as PolicyDevice;
  const precision = (option("--precision") ??
    (process.env.GGML_VK_DISABLE_F16 || gpu !== "vulkan" ? "f32" : "f16")) as CheckPrecision;
  try {
    if (!["f32", "f16", "tf32"].includes(precision)) throw new Error(`--precision ${precision}: f32, f16 or tf32`);
    if (argv.includes("--quantized")) {
      const quantized = await checkQuantized(gpu);
      console.log(
        JSON.stringify({ gpu, precision, quantized, failures: quantizedCheckFailures(quantized, precision) }),
      );
    } else {
      const report = await checkDevice(gpu, { fd: precision === "f32" });
      const bounds = precision === "tf32" ? "f16" : precision;
      console.log(JSON.stringify({ ...report, precision, failures: deviceCheckFailures(report, bounds) }));
    }
  } catch (error) {
    const { code, message } = error as { code?: string; message?: string };
    console.log(JSON.stringify({ error: { code: code ?? "error", message: message ?? String(error) } }));
  }
  process.exit(0);
}
