/**
 * The native extension on a ggml GPU backend: Vulkan, on Mesa's CPU implementation (lavapipe, "llvmpipe") where
 * no GPU exists — `apt-get install -y mesa-vulkan-drivers libvulkan1`; ggml-vulkan lists that CPU-type device
 * only with GGML_VK_VISIBLE_DEVICES=0. Each check runs in a child process (trainers/native/deviceCheck.ts): the
 * device list and its precision settings are fixed when node-llama-cpp first loads the Vulkan build.
 *
 * With f32 shaders (GGML_VK_DISABLE_F16=1) the device must compute the CPU's numbers: gradients vs finite
 * differences and vs the CPU, log-probs vs node-llama-cpp. With the default f16 shaders, activations are rounded
 * to f16 on the device (node-llama-cpp's own Vulkan log-probs differ from its CPU ones too): looser bounds.
 * Most graph nodes must run on the device — a silent CPU fallback fails. In CI (CI=true) a missing Vulkan
 * device fails; elsewhere its absence must be the clear error a user would get.
 */
import { describe, expect, test } from "@jest/globals";
import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import type { DeviceCheckReport } from "./native/deviceCheck.js";

/** deviceCheck.ts's output line: the report, its precision and what failed (deviceCheckFailures). */
type Report = DeviceCheckReport & { precision: "f32" | "f16"; failures: string[] };

const run = promisify(execFile);
const script = join(process.cwd(), "trainers", "native", "deviceCheck.ts");

async function checkVulkan(env: Record<string, string>): Promise<Report | undefined> {
  const { stdout } = await run(process.execPath, ["--import", "tsx", script, "--gpu", "vulkan"], {
    env: { ...process.env, GGML_VK_VISIBLE_DEVICES: "0", ...env },
    timeout: 150_000,
    maxBuffer: 1 << 20,
  });
  const report = JSON.parse(stdout.trim().split("\n").pop()!) as Report | { error: { code: string; message: string } };
  if ("error" in report) {
    if (process.env.CI === "true") throw new Error(`no Vulkan device in CI: ${report.error.message}`);
    // Not CI and no Vulkan here: what a user gets must say what is missing and how to get it.
    expect(report.error.code).toMatch(/^(native|model)\.backend$/);
    expect(report.error.message).toMatch(/vulkan/i);
    return undefined;
  }
  return report;
}

describe("NativePolicy on Vulkan (lavapipe)", () => {
  test("f32 shaders: gradients match finite differences and the CPU, log-probs match node-llama-cpp, the graph runs on the device", async () => {
    const report = await checkVulkan({ GGML_VK_DISABLE_F16: "1" });
    if (!report) return;
    expect(report.device).toMatch(/^Vulkan\d+ \(/);
    expect(report.precision).toBe("f32");
    expect(report.gradientError).not.toBeNull();
    expect(report.failures).toEqual([]);
  }, 160_000);

  test("default (f16) shaders: gradients within 3 % of the CPU's, log-probs near node-llama-cpp's on the device", async () => {
    const report = await checkVulkan({});
    if (!report) return;
    expect(report.precision).toBe("f16");
    expect(report.failures).toEqual([]);
  }, 160_000);
});
