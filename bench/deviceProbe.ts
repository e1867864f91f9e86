/**
 * The device run's probe (gpukit/run.sh, docs/native.md "The GPU kit"): is `--gpu <mode>` really on that device,
 * for node-llama-cpp and for the trainer? Loads the shipped demo model with node-llama-cpp on the device and
 * generates a few tokens, then a NativePolicy on the same device runs one training call. Prints one JSON line
 * `{ gpu, llama: { device }, trainer: { device, nodeShare, splits }, seconds }` and exits 0 when both are on the
 * device — else prints `{ …, "reason": "…" }` and exits 1: a GPU mode never falls back to the CPU silently.
 *
 * Run: node dist/bench/deviceProbe.js --gpu cuda|vulkan|cpu   (or npx tsx bench/deviceProbe.ts --gpu …)
 */
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { loadModel } from "../models/loadModel.js";
import { NativePolicy, type PolicyDevice } from "../trainers/nativePolicy.js";

const argv = process.argv.slice(2);
const gpu = (argv.includes("--gpu") ? argv[argv.indexOf("--gpu") + 1] : "auto") as PolicyDevice;
const started = performance.now();
const here = dirname(fileURLToPath(import.meta.url));
// bench/ in the repository, dist/bench/ in the kit and the package: data/ sits beside one of them.
const modelPath = [join(here, "..", "data", "demo-model.gguf"), join(here, "..", "..", "data", "demo-model.gguf")].find(
  (p) => existsSync(p),
);
const onDevice = (device: string): boolean =>
  gpu === "cpu" ? device === "CPU" : new RegExp(`^${gpu === "auto" ? "" : gpu}`, "i").test(device);

const report: Record<string, unknown> = { gpu };
let ok = false;
try {
  if (!modelPath) throw new Error("data/demo-model.gguf is missing beside the probe");
  const model = await loadModel({ model: modelPath, gpu, download: false, threads: 1, sequences: 1 });
  try {
    await model.generate({ text: "SELECT" }, { maxTokens: 4, temperature: 0 });
    const names = model.llama.gpu === false ? [] : await model.llama.getGpuDeviceNames();
    report.llama = { gpu: model.llama.gpu, devices: names, gpuLayers: model.model.gpuLayers };
    if (gpu !== "cpu" && gpu !== "auto" && model.llama.gpu !== gpu) {
      throw new Error(`node-llama-cpp loaded its ${model.llama.gpu || "CPU"} build, not ${gpu}`);
    }
  } finally {
    await model.dispose();
  }
  const policy = await NativePolicy.create({ modelPath, gpu, threads: 1, lora: { rank: 4, alpha: 8 } });
  try {
    const tokens = Array.from({ length: 24 }, (_, i) => 1 + ((i * 37) % 500));
    await policy.accumulateGradients([{ tokens, completionStart: 12 }], [new Float32Array(12).fill(-0.01)]);
    const info = policy.info();
    report.trainer = {
      device: info.device,
      nodeShare: info.deviceNodeShare,
      splits: info.graphSplits,
      deviceMemory: info.deviceMemory,
    };
    ok = onDevice(info.device) && (gpu === "cpu" || (info.deviceNodeShare ?? 0) >= 0.9);
    if (!ok) report.reason = `the trainer runs on ${info.device} (node share ${info.deviceNodeShare}), not on ${gpu}`;
  } finally {
    await policy.dispose();
  }
} catch (error) {
  const { code, message } = error as { code?: string; message?: string };
  report.reason = `${code ?? "error"}: ${message ?? String(error)}`;
}
report.seconds = (performance.now() - started) / 1000;
console.log(JSON.stringify(report));
process.exit(ok ? 0 : 1);
